/// Scratch buffers for one forward pass of up to `rows` tokens, allocated once (llama2.c `RunState`).
///
/// Inference keeps one layer's activations at a time; the fine-tuner's activation struct will keep them per layer
/// (llm.c `ActivationTensors`) because its backward pass reads them again.
final class LlamaRunState {
    let rows: Int
    let capacity: Int
    // N = rows, C = dim, H = hiddenDim, NH = heads; qDim = NH·headDim, kvDim = kvHeads·headDim.
    let x: UnsafeMutablePointer<Float>       // (N, C) residual stream
    let xb: UnsafeMutablePointer<Float>      // (N, C) rmsnorm output, the projections' input
    let xb2: UnsafeMutablePointer<Float>     // (N, C) Wo / Wdown output before the residual add; head rows gathered
    let q: UnsafeMutablePointer<Float>       // (N, qDim)
    let k: UnsafeMutablePointer<Float>       // (N, kvDim) before it is copied into the KV cache
    let v: UnsafeMutablePointer<Float>       // (N, kvDim)
    let att: UnsafeMutablePointer<Float>     // (N, qDim) attention output, Wo's input
    let gate: UnsafeMutablePointer<Float>    // (N, H) Wgate·xb, then silu(gate) ⊙ up in place (Wdown's input)
    let up: UnsafeMutablePointer<Float>      // (N, H)
    let rstd: UnsafeMutablePointer<Float>    // (N) 1/rms per row
    let scores: UnsafeMutablePointer<Float>  // (N, NH, capacity) attention scores
    let slots: UnsafeMutablePointer<Int32>      // (N) KV-cache slot of each row
    let positions: UnsafeMutablePointer<Int32>  // (N) position of each row in its sequence
    private let slab: UnsafeMutablePointer<Float>

    init(config c: LlamaConfig, rows N: Int, capacity: Int) {
        rows = N
        self.capacity = capacity
        let sizes = [N * c.dim, N * c.dim, N * c.dim, N * c.qDim, N * c.kvDim, N * c.kvDim, N * c.qDim,
                     N * c.hiddenDim, N * c.hiddenDim, N, N * c.heads * capacity]
        slab = .allocate(capacity: sizes.reduce(0, +))
        slab.initialize(repeating: 0, count: sizes.reduce(0, +))
        var views: [UnsafeMutablePointer<Float>] = []
        var offset = 0
        for s in sizes {
            views.append(slab + offset)
            offset += s
        }
        (x, xb, xb2, q, k, v, att) = (views[0], views[1], views[2], views[3], views[4], views[5], views[6])
        (gate, up, rstd, scores) = (views[7], views[8], views[9], views[10])
        slots = .allocate(capacity: N)
        positions = .allocate(capacity: N)
    }

    deinit {
        slab.deallocate()
        slots.deallocate()
        positions.deallocate()
    }
}
