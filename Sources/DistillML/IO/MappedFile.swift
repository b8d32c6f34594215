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

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
