/// Limits every JSON reader in distill shares, so hostile input is refused with an error instead of exhausting the
/// stack or memory.
///
/// The one recursive-descent parser (`JSONParser`: datasets, the wire, and judge replies in its lenient mode) recurses
/// once per nesting level, and a parsed tree is freed recursively too: a reply of 50,000 `[` would overflow the stack.
/// No real record or verdict nests deeper than a handful of levels; Foundation's JSONSerialization and JSONDecoder stop
/// at the same 512.
public enum JSONLimits {
    /// The deepest nesting of arrays and objects any reader accepts.
    public static let maxDepth = 512
}
