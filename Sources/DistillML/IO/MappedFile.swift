import DistillData
import Foundation

/// A read-only memory mapping of a whole file (llama2.c's `mmap` of the checkpoint).
///
/// The mapping lives as long as this object; views handed out by readers built on it
/// (GGUF tensors, safetensors tensors) are valid only while it is alive, so owners keep it.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is PROT_READ and never changes after init.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            throw DistillMLError(file: path, code == ENOENT ? FileChecks.missing(path) : "cannot open: \(FileChecks.cause(code))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw DistillMLError(file: path, "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) != S_IFDIR else {
            throw DistillMLError(file: path, "is a directory, not a model file: give the path of a .gguf or .safetensors file")
        }
        let size = Int(st.st_size)
        guard size > 0 else {
            throw DistillMLError(file: path, "file is empty (0 bytes): was the download interrupted?")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw DistillMLError(file: path, "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Drops the pages read so far from this process's resident set (the loaders copy what they keep): a later read
    /// faults them in again from the page cache, so the bytes stay valid. Advisory; a refusal changes nothing.
    public func releaseResidentPages(_ range: Range<Int>? = nil) {
        let range = range ?? 0..<bytes.count
        guard let base = bytes.baseAddress, range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        // Whole pages inside the range only (the mapping starts on a page boundary).
        let page = Int(sysconf(Int32(_SC_PAGESIZE))), lo = (range.lowerBound + page - 1) / page * page
        let hi = range.upperBound == bytes.count ? bytes.count : range.upperBound / page * page
        guard hi > lo else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + lo), hi - lo, MADV_DONTNEED)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
