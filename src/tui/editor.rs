//! The F4/F7 editor.
