/// A ggml tensor element type (ggml.h `enum ggml_type`), with its block geometry from ggml-common.h.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q4_1 = GGMLType(rawValue: 3)
    public static let q5_0 = GGMLType(rawValue: 6)
    public static let q5_1 = GGMLType(rawValue: 7)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let q8_1 = GGMLType(rawValue: 9)
    public static let q2_K = GGMLType(rawValue: 10)
    public static let q3_K = GGMLType(rawValue: 11)
    public static let q4_K = GGMLType(rawValue: 12)
    public static let q5_K = GGMLType(rawValue: 13)
    public static let q6_K = GGMLType(rawValue: 14)
    public static let q8_K = GGMLType(rawValue: 15)
    public static let i8 = GGMLType(rawValue: 24)
    public static let i16 = GGMLType(rawValue: 25)
    public static let i32 = GGMLType(rawValue: 26)
    public static let i64 = GGMLType(rawValue: 27)
    public static let f64 = GGMLType(rawValue: 28)
    public static let bf16 = GGMLType(rawValue: 30)

    /// (elements per block, bytes per block), or nil for a type this reader does not know the size of.
    public var blockGeometry: (elements: Int, bytes: Int)? {
        switch rawValue {
        case 0: (1, 4)
        case 1: (1, 2)
        case 2: (32, 18)
        case 3: (32, 20)
        case 6: (32, 22)
        case 7: (32, 24)
        case 8: (32, 34)
        case 9: (32, 36)
        case 10: (256, 84)
        case 11: (256, 110)
        case 12: (256, 144)
        case 13: (256, 176)
        case 14: (256, 210)
        case 15: (256, 292)
        case 24: (1, 1)
        case 25: (1, 2)
        case 26: (1, 4)
        case 27: (1, 8)
        case 28: (1, 8)
        case 30: (1, 2)
        default: nil
        }
    }

    /// An importance-matrix quant (IQ1_S … IQ4_XS), which this engine cannot decode.
    public var isIQuant: Bool { [16, 17, 18, 19, 20, 21, 22, 23, 29].contains(rawValue) }

    public var description: String {
        let names: [UInt32: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
            10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K",
            24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 30: "BF16",
            // Importance-matrix ("i-") quants and ternary types: named so a refusal says which one the file holds.
            16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
            29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0",
        ]
        return names[rawValue] ?? "ggml type \(rawValue)"
    }
}
