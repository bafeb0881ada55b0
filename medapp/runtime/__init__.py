"""What the desk runs on, shared by ui/ and jobs/: the desk context and its signal hub (QtCore
only, no widgets)."""
