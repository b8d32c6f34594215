@testable import DistillHTTP
import Glibc
import Testing

/// The wake-pipe mailbox the curl driver and the server loop share: one byte per burst, every command in order.
@Suite struct WakePipeMailboxTests {
    /// Whether the read end is readable now (what the I/O thread's poll would see).
    private func readable(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) == 1
    }

    /// Reads (and so drains) every byte waiting in the pipe; the read end is non-blocking.
    private func drain(_ fd: Int32) -> Int {
        var buf = [UInt8](repeating: 0, count: 256)
        var total = 0
        while case let n = read(fd, &buf, buf.count), n > 0 { total += n }
        return total
    }

    @Test func aBurstOfPostsWritesOneWakeByteAndTakeReturnsAllInOrder() throws {
        let mailbox = try WakePipeMailbox<Int>()
        #expect(!readable(mailbox.wakeRead))
        for i in 0..<100 { mailbox.post(i) }
        #expect(drain(mailbox.wakeRead) == 1)
        #expect(mailbox.take() == Array(0..<100))
        #expect(mailbox.take().isEmpty)
        // After a take, the next post wakes again, and take empties the pipe.
        mailbox.post(7)
        #expect(readable(mailbox.wakeRead))
        #expect(mailbox.take() == [7])
        #expect(!readable(mailbox.wakeRead))
    }

    @Test func bothEndsAreNonBlockingAndCloseOnExec() throws {
        let mailbox = try WakePipeMailbox<Int>()
        #expect(fcntl(mailbox.wakeRead, F_GETFL, 0) & O_NONBLOCK != 0)
        #expect(fcntl(mailbox.wakeRead, F_GETFD, 0) & FD_CLOEXEC != 0)
    }
}
