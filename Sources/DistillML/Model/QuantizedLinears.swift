/// Placeholder filled in below.
public final class QuantizedLinears {
    func matmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ kind: LlamaParameters.Kind, layer: Int,
                bias: UnsafePointer<Float>?, N: Int) {}
}
