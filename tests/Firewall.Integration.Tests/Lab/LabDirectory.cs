using System.Diagnostics;

namespace Firewall.Integration.Tests.Lab;

/// <summary>A temporary directory (mode 0755, so the servers' unprivileged users can enter it), deleted on Dispose.</summary>
public sealed class LabDirectory : IDisposable
{
    public LabDirectory(string prefix)
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
        Chmod(Path, "755");
    }

    public string Path { get; }

    /// <summary>Creates (or returns) a subdirectory with mode 0755.</summary>
    public string Sub(string name)
    {
        string dir = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(dir);
        Chmod(dir, "755");
        return dir;
    }

    /// <summary>Writes a world-readable file.</summary>
    public static string WriteFile(string dir, string name, string content)
    {
        string file = System.IO.Path.Combine(dir, name);
        File.WriteAllText(file, content);
        Chmod(file, "644");
        return file;
    }

    private static void Chmod(string path, string octal)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the lab runs on Linux only");
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(octal, 8));
    }

    /// <summary>chown (for tftpd's upload directory, owned by its service user).</summary>
    public static void Chown(string path, string user) =>
        NetLab.RunLocal(NetLab.ResolveTool("chown"), [user, path], NetLab.DefaultTimeout).ThrowIfFailed();

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException e) { Debug.WriteLine($"could not delete {Path}: {e.Message}"); }
    }
}
