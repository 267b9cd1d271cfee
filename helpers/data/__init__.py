"""Stage 1, data: the emotion splits and other labelled texts, loaded strictly, and the audit of what they hold."""
