import CSpawn

/// The process's own memory.
public enum ProcessMemory {
    /// Returns heap memory freed since the last call to the system (glibc keeps it in its arenas
    /// otherwise, so a long-running process stays at the size of its largest burst of work).
    public static func returnFreedMemory() {
        _ = malloc_trim(0)
    }
}
