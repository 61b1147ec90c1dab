using System.Diagnostics;
using System.Text;

namespace Firewall.Daemon.Tests.Support;

public sealed record ProcResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs commands to completion; ends only the processes it started, by PID.</summary>
public static class Proc
{
    public static ProcResult Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, IDictionary<string, string?>? env = null, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (stdin is not null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            p.WaitForExit();
            return new ProcResult(-1, so.Result, se.Result + $"\n(timed out: {file} {string.Join(' ', args)})");
        }
        p.WaitForExit();
        return new ProcResult(p.ExitCode, so.Result, se.Result);
    }

    /// <summary>fwctl through dotnet (optionally prefixed by a wrapper such as setpriv).</summary>
    public static ProcResult Fwctl(string socket, params string[] args) =>
        Run(Paths.Dotnet, ["exec", Paths.FwctlDll, "--socket", socket, .. args], TimeSpan.FromSeconds(30));
}

/// <summary>
/// The daemon as a child process (the built firewall-daemon.dll), stdout JSON lines collected. Disposing sends SIGTERM
/// and waits; a daemon that does not stop is killed (by its PID).
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _p;
    private readonly List<string> _out = [];
    private readonly StringBuilder _err = new();
    private readonly Lock _gate = new();

    public DaemonProcess(IEnumerable<string> args, IDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo(Paths.Dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(Paths.DaemonDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("WATCHDOG_USEC");
        psi.Environment.Remove("JOURNAL_STREAM");
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        _p = new Process { StartInfo = psi };
        _p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _out.Add(e.Data); };
        _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _err.AppendLine(e.Data); };
        _p.Start();
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    public int Pid => _p.Id;

    public IReadOnlyList<string> Lines { get { lock (_gate) return [.. _out]; } }
    public string Stderr { get { lock (_gate) return _err.ToString(); } }
    public string AllOutput => string.Join('\n', Lines) + "\n" + Stderr;

    /// <summary>Log events (parsed JSON lines) whose @e is <paramref name="name"/>.</summary>
    public List<System.Text.Json.JsonElement> Events(string name) =>
        Lines.Select(TryParse).Where(e => e is { } j && j.TryGetProperty("@e", out var n) && n.GetString() == name).Select(e => e!.Value).ToList();

    private static System.Text.Json.JsonElement? TryParse(string line)
    {
        try { return System.Text.Json.JsonDocument.Parse(line).RootElement.Clone(); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    public System.Text.Json.JsonElement WaitForEvent(string name, TimeSpan? timeout = null, Func<System.Text.Json.JsonElement, bool>? where = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < until)
        {
            var hit = Events(name).FirstOrDefault(e => where is null || where(e));
            if (hit.ValueKind != System.Text.Json.JsonValueKind.Undefined) return hit;
            if (_p.HasExited && Events(name).Count == 0) break;
            Thread.Sleep(50);
        }
        throw new Xunit.Sdk.XunitException($"no {name} event within the timeout; daemon output:\n{AllOutput}");
    }

    public bool WaitForExit(TimeSpan timeout) => _p.WaitForExit(timeout);
    public int ExitCode => _p.ExitCode;
    public bool HasExited => _p.HasExited;

    public void Signal(int signal) => Proc.Run("/bin/kill", [$"-{signal}", _p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    /// <summary>SIGTERM and wait for a clean exit; returns the exit code.</summary>
    public int Stop()
    {
        if (!_p.HasExited) Signal(15);
        if (!_p.WaitForExit(TimeSpan.FromSeconds(20))) { _p.Kill(); _p.WaitForExit(); return -1; }
        _p.WaitForExit();
        return _p.ExitCode;
    }

    public void Dispose()
    {
        if (!_p.HasExited) Stop();
        _p.Dispose();
    }
}

/// <summary>A background command whose output lines are collected (fwctl -E); killed by its PID on dispose.</summary>
public sealed class DaemonlessProcess : IDisposable
{
    private readonly System.Diagnostics.Process _p;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();

    public DaemonlessProcess(string file, IEnumerable<string> args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        _p = new System.Diagnostics.Process { StartInfo = psi };
        _p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _lines.Add(e.Data); };
        _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _lines.Add("stderr: " + e.Data); };
        _p.Start();
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    public int Pid => _p.Id;

    public bool WaitForExit(TimeSpan timeout) => _p.WaitForExit(timeout);

    public string WaitForLine(Func<string, bool> match, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < until)
        {
            lock (_gate) { var hit = _lines.FirstOrDefault(match); if (hit is not null) return hit; }
            Thread.Sleep(50);
        }
        lock (_gate) throw new Xunit.Sdk.XunitException("no matching line; got:\n" + string.Join('\n', _lines));
    }

    public void Dispose()
    {
        if (!_p.HasExited) { try { _p.Kill(); } catch (InvalidOperationException) { } }
        _p.WaitForExit(5000);
        _p.Dispose();
    }
}
