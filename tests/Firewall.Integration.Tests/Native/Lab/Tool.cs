using System.Diagnostics;

namespace Firewall.Integration.Tests.Native.Lab;

/// <summary>Runs lab commands (ip, iptables, ping ...) and fails loudly, naming what is missing.</summary>
internal static class Tool
{
    public readonly record struct Result(int ExitCode, string Output, string Error);

    public static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("this test needs root (network namespaces, raw sockets, netlink, /dev/net/tun)");
    }

    /// <summary>Absolute path of a tool on PATH, or an exception naming the Debian package that provides it.</summary>
    public static string Find(string name, string package)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"required tool '{name}' not found on PATH (install Debian package '{package}')");
    }

    public static Result Run(string file, IEnumerable<string> args, int timeoutMilliseconds = 15000)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMilliseconds))
        {
            process.Kill(entireProcessTree: true); // our own child, by its handle
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeoutMilliseconds} ms");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and throws (with stderr) on a non-zero exit.</summary>
    public static string Check(string file, string commandLine, int timeoutMilliseconds = 15000)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Result r = Run(file, args, timeoutMilliseconds);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"'{Path.GetFileName(file)} {commandLine}' failed ({r.ExitCode}): {r.Error.Trim()} {r.Output.Trim()}");
        return r.Output;
    }
}
