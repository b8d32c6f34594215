/// Keys and values of every layer for a fixed number of sequence slots (llama2.c `RunState.key_cache`).
///
/// Layout per layer: (slots, capacity, kvDim), keys already rotated. `lengths[s]` is how many positions of slot s
/// are filled; `LlamaModel.forward` appends after them. Memory: 2 · layers · slots · capacity · kvDim floats.
public final class KVCache {
    public let layers: Int
    public let slots: Int
    public let capacity: Int
    public let kvDim: Int
    public private(set) var lengths: [Int]
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>

    public init(config: LlamaConfig, slots: Int, capacity: Int) {
        layers = config.layers
        self.slots = slots
        self.capacity = capacity
        kvDim = config.kvDim
        lengths = Array(repeating: 0, count: slots)
        let count = layers * slots * capacity * kvDim
        keys = .allocate(capacity: max(count, 1))
        values = .allocate(capacity: max(count, 1))
        // No zero fill: positions are written before they are read, and untouched pages stay unbacked.
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes held for a given shape (for sizing decisions before allocating).
    public static func bytes(config: LlamaConfig, slots: Int, capacity: Int) -> Int {
        2 * config.layers * slots * capacity * config.kvDim * 4
    }

    /// Forgets slot `s` (its next token is position 0); or keeps its first `keep` positions.
    public func reset(slot s: Int, keep: Int = 0) { lengths[s] = min(keep, lengths[s]) }

    /// Makes slot `target` hold the first `count` positions of slot `source` (keys, values, every layer), so a
    /// prompt that starts with tokens another slot already holds skips recomputing them.
    public func copyPrefix(from source: Int, to target: Int, count: Int) {
        precondition(count <= lengths[source], "copying \(count) positions from a slot holding \(lengths[source])")
        if source != target {
            for l in 0..<layers {
                let from = l * slots * capacity * kvDim + source * capacity * kvDim
                let to = l * slots * capacity * kvDim + target * capacity * kvDim
                (keys + to).update(from: keys + from, count: count * kvDim)
                (values + to).update(from: values + from, count: count * kvDim)
            }
        }
        lengths[target] = count
    }

    public func resetAll() { lengths = Array(repeating: 0, count: slots) }

    func advance(slot s: Int, by n: Int) { lengths[s] += n }

    func keys(layer l: Int) -> UnsafeMutablePointer<Float> { keys + l * slots * capacity * kvDim }
    func values(layer l: Int) -> UnsafeMutablePointer<Float> { values + l * slots * capacity * kvDim }
}
