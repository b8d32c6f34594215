import Foundation

/// Splits a stage's stderr into lasting lines and progress updates, so `distill run` can show the stage's progress
/// inside its own one-line view and pass everything else through.
///
/// A stage runs with `DISTILL_PROGRESS=redraw`, so its `ProgressReporter` writes each update as `\r ESC[2K text`
/// with no newline, the final line as `\r ESC[2K text \n`, and a clear as a bare `\r ESC[2K`; anything else is an
/// ordinary line. Bytes arrive in arbitrary pieces: a piece may end inside a line or inside a UTF-8 character.
struct StageOutputSplitter {
    enum Event: Equatable {
        /// A line to keep (an ordinary message, or a progress reporter's final line).
        case line(String)
        /// The stage's current progress (replaces the previous one).
        case progress(String)
    }

    private var buffer: [UInt8] = []
    /// The progress text last reported from an unfinished piece, so it is not reported twice.
    private var shown: String?

    private static let redraw: [UInt8] = [0x0D, 0x1B, 0x5B, 0x32, 0x4B]  // \r ESC [ 2 K

    /// Feeds `bytes`; returns the events they complete, in order.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        buffer.append(contentsOf: bytes)
        var events: [Event] = []
        while !buffer.isEmpty {
            let isUpdate = buffer.starts(with: Self.redraw)
            if !isUpdate && buffer.count < Self.redraw.count && Self.redraw.starts(with: buffer) { break }
            let start = isUpdate ? Self.redraw.count : (buffer.first == 0x0D ? 1 : 0)
            guard let end = buffer[start...].firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) else {
                // An update written whole but not yet followed by the next one: show it now.
                if isUpdate, let text = String(bytes: buffer[start...], encoding: .utf8), !text.isEmpty, text != shown {
                    shown = text
                    events.append(.progress(text))
                }
                break
            }
            let text = String(decoding: buffer[start..<end], as: UTF8.self)
            if buffer[end] == 0x0A {
                events.append(.line(text))
                buffer.removeSubrange(...end)
                shown = nil
            } else {
                if isUpdate, !text.isEmpty, text != shown { events.append(.progress(text)) }
                shown = nil
                buffer.removeSubrange(..<end)
            }
        }
        return events
    }

    /// What is left when the stage's stderr closes: an unfinished ordinary line is still a line.
    mutating func finish() -> [Event] {
        defer { buffer = [] }
        guard !buffer.isEmpty, !buffer.starts(with: Self.redraw) else { return [] }
        let text = String(decoding: buffer.drop { $0 == 0x0D }, as: UTF8.self)
        return text.isEmpty ? [] : [.line(text)]
    }
}
