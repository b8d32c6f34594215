/// One tensor's entry in a GGUF file: name, shape, element type and where its bytes are.
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    /// ggml order: `dims[0]` varies fastest (the row length). A PyTorch [out, in] weight has dims [in, out].
    public var dims: [Int]
    public var type: GGMLType
    /// Offset of the tensor's bytes from the start of the file (not from the data section).
    public var fileOffset: Int
    public var byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }
    /// Rows in ggml terms: every dimension but the first.
    public var rowCount: Int { dims.dropFirst().reduce(1, *) }
    public var rowLength: Int { dims.first ?? 1 }
}
