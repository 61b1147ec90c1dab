using System.Diagnostics;
using System.Text;

namespace Firewall.Integration.Tests.Helpers.FtpTftpLab;

/// <summary>Runs lab commands and fails loudly, naming what is missing. Only processes started here are ever ended.</summary>
public static class LabTool
{
    public readonly record struct Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}; stdout: {Output.Trim()}; stderr: {Error.Trim()}";
    }

    public static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("this test needs root (network namespaces, servers on ports 21/69)");
    }

    /// <summary>Absolute path of a tool, or an exception naming the Debian package that provides it.</summary>
    public static string Find(string name, string package)
    {
        string[] dirs = [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries), "/usr/sbin", "/sbin", "/usr/bin"];
        foreach (string dir in dirs)
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"required tool '{name}' not found (install Debian package '{package}'; test.sh lists it in PKGS)");
    }

    /// <summary>Runs to completion (killing it, and only it with its children, after the timeout).</summary>
    public static Result Run(string file, IReadOnlyList<string> args, int timeoutMilliseconds = 20000, string? workingDirectory = null)
    {
        using Process process = Start(file, args, workingDirectory);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeoutMilliseconds} ms; stderr: {stderr.Result}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string Check(string file, params string[] args)
    {
        Result r = Run(file, args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"'{Path.GetFileName(file)} {string.Join(' ', args)}' failed: {r}");
        return r.Output;
    }

    public static Process Start(string file, IReadOnlyList<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
    }
}

/// <summary>
/// A long-running server started inside a namespace (<c>ip netns exec NS server …</c>, which execs, so the process we
/// hold is the server). Its output is collected for failure messages. Dispose ends it and its children (per-session
/// forks) through our own process handle.
/// </summary>
public sealed class LabServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public LabServer(string name, string ipPath, string ns, string file, IEnumerable<string> args)
    {
        Name = name;
        _process = LabTool.Start(ipPath, ["netns", "exec", ns, file, .. args]);
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Polls <paramref name="ready"/> until true; throws with the server's output if it exits or times out.</summary>
    public void WaitUntil(Func<bool> ready, int timeoutMilliseconds = 10000)
    {
        var sw = Stopwatch.StartNew();
        while (!ready())
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} before it was ready: {Output}");
            if (sw.ElapsedMilliseconds > timeoutMilliseconds)
                throw new TimeoutException($"{Name} not ready after {timeoutMilliseconds} ms: {Output}");
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
