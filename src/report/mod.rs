//! Rendering findings: human (codespan-reporting), JSON, JSON lines.
