/// An error from the engine that names the file, where in it (a byte offset or a tensor), and what to do.
public struct DistillMLError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    /// Where in the file: "byte 1234", "tensor 'blk.0.attn_q.weight'", "key 'llama.block_count'".
    public var location: String?
    public var message: String

    public init(file: String, at location: String? = nil, _ message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    public var description: String {
        var s = file + ": "
        if let location { s += location + ": " }
        return s + message
    }
}
