/// Rough prompt-token counts for rate-limit reservations, made before the server counts for real.
///
/// About four bytes of UTF-8 per token for English (OpenAI's rule of thumb); CJK text runs nearer one token per
/// character, i.e. per three bytes, so the larger of the two readings is taken. Reservations are refunded with the
/// real usage, so the estimate only has to be in the right range.
public enum TokenEstimate {
    public static func prompt(_ messages: [ChatMessage]) -> Int {
        var bytes = 0
        var nonASCII = 0
        for m in messages {
            bytes += m.content.utf8.count
            for s in m.content.unicodeScalars where s.value >= 0x2E80 { nonASCII += 1 }
        }
        // Per-message framing tokens (role markers) as the chat formats add them.
        return max((bytes + 3) / 4, nonASCII + (bytes - 3 * nonASCII + 3) / 4) + 4 * messages.count
    }

    /// Prompt estimate plus the most the reply may use.
    public static func request(_ request: ChatRequest) -> Int {
        prompt(request.messages) + (request.maxTokens ?? 0) * max(1, request.n ?? 1)
    }
}
