namespace Firewall.Native.Unix;

/// <summary>File-system durability calls .NET does not offer.</summary>
public static class UnixFiles
{
    /// <summary>fsync of a directory, so that a rename inside it survives a crash.</summary>
    public static void SyncDirectory(string path)
    {
        int fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0) NativeException.ThrowLast($"open {path}");
        try
        {
            if (Interop.Libc.Fsync(fd) != 0) NativeException.ThrowLast($"fsync {path}");
        }
        finally
        {
            Interop.Libc.Close(fd);
        }
    }
}
