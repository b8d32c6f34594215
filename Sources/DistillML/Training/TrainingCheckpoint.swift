import DistillData
import Foundation

/// Everything a run needs to continue exactly where it stopped: parameters, AdamW's moments, the step (which fixes
/// the schedule and the data position, see `TrainingPlan`), the best evaluation so far, and the run's fingerprint.
///
/// File layout: `DSTLCKPT`, a little-endian UInt64 header length, the JSON header, then the parameters, m and v as
/// little-endian Float32 slabs. Written to a temporary file, fsynced, renamed over the old one and the folder
/// fsynced: a crash or a full disk at any point leaves the previous checkpoint whole.
public struct TrainingCheckpoint: Sendable {
    public struct Header: Codable, Sendable, Equatable {
        public var version = 1
        /// Optimiser steps completed.
        public var step: Int
        /// The run's manifest fingerprint: a checkpoint from another run is refused.
        public var fingerprint: String
        public var tensors: [Tensor]
        public var bestEvalLoss: Double?
        public var bestStep: Int?
        /// Whether the optimiser moments follow the parameters (false for parameters-only files like `best`).
        public var hasMoments: Bool
        /// The model's random stream position (LoRA dropout), when it has one.
        public var randomStream: UInt64?

        public struct Tensor: Codable, Sendable, Equatable {
            public var name: String
            public var shape: [Int]
        }

        enum CodingKeys: String, CodingKey {
            case version, step, fingerprint, tensors
            case bestEvalLoss = "best_eval_loss"
            case bestStep = "best_step"
            case hasMoments = "has_moments"
            case randomStream = "random_stream"
        }
    }

    public static let magic = Array("DSTLCKPT".utf8)

    public var header: Header
    public var parameters: [Float]
    public var m: [Float]
    public var v: [Float]

    public init(header: Header, parameters: [Float], m: [Float], v: [Float]) {
        self.header = header
        self.parameters = parameters
        self.m = m
        self.v = v
    }

    /// Writes the checkpoint atomically (temporary file + fsync + rename + folder fsync).
    public func write(to path: String) throws {
        var head = Data(Self.magic)
        let json = try JSONLines.encoder.encode(header)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { head.append(contentsOf: $0) }
        head.append(json)
        try AtomicFile.write(to: path) { fd in
            try AtomicFile.writeAll(fd, head, path: path)
            for slab in header.hasMoments ? [parameters, m, v] : [parameters] {
                try slab.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
            }
        }
    }

    /// Reads a checkpoint, checking its magic, header and exact size.
    public static func read(_ path: String) throws -> TrainingCheckpoint {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw DataError(file: path, "cannot read the checkpoint: \(error.localizedDescription)")
        }
        guard data.count >= 16, Array(data.prefix(8)) == magic else {
            throw DataError(file: path, "not a distill checkpoint (bad magic); delete it to start the run over")
        }
        let length = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 16) else { throw DataError(file: path, "header length \(length) past the end of the file") }
        let headerEnd = 16 + Int(length)
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<headerEnd)) } catch {
            throw DataError(file: path, "bad checkpoint header: \(JSONLines.describe(error))")
        }
        var count = 0
        for t in header.tensors {
            var n = 1
            for d in t.shape {
                guard d >= 0 else { throw DataError(file: path, field: t.name, "negative dimension in the checkpoint") }
                let (p, o) = n.multipliedReportingOverflow(by: d)
                guard !o else { throw DataError(file: path, field: t.name, "tensor size overflows") }
                n = p
            }
            let (s, o) = count.addingReportingOverflow(n)
            guard !o else { throw DataError(file: path, "tensor sizes overflow") }
            count = s
        }
        let slabs = header.hasMoments ? 3 : 1
        let (bytes, o) = count.multipliedReportingOverflow(by: 4 * slabs)
        guard !o, data.count - headerEnd == bytes else {
            throw DataError(file: path, "is \(data.count) bytes; its header describes \(headerEnd + (o ? 0 : bytes)): "
                + "the file is damaged — delete it (and resume from scratch) or restore a copy")
        }
        func slab(_ i: Int) -> [Float] {
            let lo = headerEnd + i * count * 4
            return data.subdata(in: lo..<(lo + count * 4)).withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        }
        return TrainingCheckpoint(header: header, parameters: slab(0), m: slabs == 3 ? slab(1) : [], v: slabs == 3 ? slab(2) : [])
    }
}
