import Foundation

/// A record distill reads from a dataset file: decodable from its wire keys, and able to list its text fields so
/// readers can check their encoding (mojibake) and `data stats` can measure them.
public protocol DatasetRecord: Codable, Sendable {
    /// What the record is called in errors ("Alpaca instruction item").
    static var kindDescription: String { get }
    /// The shape expected on the wire, shown when an item does not decode.
    static var expectedShape: String { get }
    /// Every text field with its wire name (`messages[2].content`), in order.
    var textFields: [(field: String, text: String)] { get }
}
