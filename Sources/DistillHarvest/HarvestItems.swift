import DistillData
import Foundation

/// A recipe's input items, read again from the file each time they are walked instead of held in memory: a
/// multi-GB input costs the items in flight, not the file ×10. `HarvestInput` checks the whole file once when it
/// makes the value (every record valid, ids unique, the count), so errors still come before any request; each
/// later walk parses the records again as the recipe reaches them. Made from an array, it walks the array (tests,
/// generated items).
public struct HarvestItems<Item: Sendable>: Sendable {
    /// Parses record `index` (0-based) found on `line` into an item.
    public typealias Parse = @Sendable (_ object: JSONValue, _ index: Int, _ line: Int) throws -> Item

    enum Storage: Sendable {
        case array([Item])
        case file(path: String, parse: Parse)
    }

    let storage: Storage
    /// How many items there are (counted when the file was checked).
    public let count: Int

    public init(_ items: [Item]) {
        storage = .array(items)
        count = items.count
    }

    /// Items read from `path` by `parse`; `count` is what the caller's checking pass counted.
    init(path: String, count: Int, parse: @escaping Parse) {
        storage = .file(path: path, parse: parse)
        self.count = count
    }

    public var isEmpty: Bool { count == 0 }

    /// A pull iterator from the first item; `next()` throws if the file became unreadable or invalid since it was
    /// checked.
    public func makeIterator() throws -> Iterator {
        switch storage {
        case .array(let items): Iterator(items: items)
        case .file(let path, let parse): Iterator(objects: try HarvestInput.ObjectIterator(path), parse: parse)
        }
    }

    public struct Iterator {
        // Either an array and a position, or the file's records and their parser. Kept as optionals rather than an
        // enum payload so `next()` mutates the reader's buffer in place (an enum payload would be copied per item).
        var items: [Item] = []
        var position = 0
        var objects: HarvestInput.ObjectIterator?
        var parse: Parse?

        public mutating func next() throws -> Item? {
            if let parse {
                guard let (index, line, object) = try objects?.next() ?? nil else { return nil }
                return try parse(object, index, line)
            }
            guard position < items.count else { return nil }
            position += 1
            return items[position - 1]
        }
    }

    /// Calls `body` on every item in order, one at a time.
    public func forEach(_ body: (Item) throws -> Void) throws {
        var it = try makeIterator()
        while let item = try it.next() { try body(item) }
    }

    /// The first item that satisfies `predicate`, reading no further than it.
    public func first(where predicate: (Item) throws -> Bool) throws -> Item? {
        var it = try makeIterator()
        while let item = try it.next() { if try predicate(item) { return item } }
        return nil
    }

    /// Every item in memory: for the recipes that need the whole set at once (ICL's pool, self-instruct's seeds).
    public func collect() throws -> [Item] {
        if case .array(let items) = storage { return items }
        var all: [Item] = []
        all.reserveCapacity(count)
        try forEach { all.append($0) }
        return all
    }
}
