using System.Diagnostics;
using System.Text;

namespace Firewall.Integration.Tests.Lab;

/// <summary>The outcome of one finished command.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    public CommandResult ThrowIfFailed()
    {
        if (!Succeeded) throw new LabCommandException(this);
        return this;
    }

    public override string ToString() =>
        $"`{CommandLine}` {(TimedOut ? "timed out" : $"exited {ExitCode}")}\nstdout: {Stdout.TrimEnd()}\nstderr: {Stderr.TrimEnd()}";
}

public sealed class LabCommandException(CommandResult result) : Exception("Lab command failed: " + result)
{
    public CommandResult Result { get; } = result;
}

/// <summary>
/// A process the lab started (in the foreground or the background). Output is collected as it arrives;
/// the process is ended only by its own PID (signal, then SIGKILL of the process itself).
/// </summary>
public sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    public string CommandLine { get; }
    public int Pid { get; }

    private LabProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
        Pid = process.Id;
    }

    internal static LabProcess Start(string file, IReadOnlyList<string> args, bool redirectStdin = false)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        string commandLine = file + " " + string.Join(' ', args.Select(Quote));
        var p = new Process { StartInfo = psi };
        LabProcess? lp = null;
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lp!.Append(lp._stdout, e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lp!.Append(lp._stderr, e.Data); };
        try
        {
            if (!p.Start()) throw new InvalidOperationException($"Could not start `{commandLine}`.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            p.Dispose();
            throw new InvalidOperationException($"Could not start `{commandLine}`: {ex.Message}", ex);
        }
        lp = new LabProcess(p, commandLine);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return lp;
    }

    private static string Quote(string a) => a.Length == 0 || a.Any(char.IsWhiteSpace) ? "'" + a + "'" : a;

    private void Append(StringBuilder sb, string line)
    {
        lock (_gate)
        {
            sb.Append(line).Append('\n');
            Monitor.PulseAll(_gate);
        }
    }

    public string Stdout { get { lock (_gate) return _stdout.ToString(); } }
    public string Stderr { get { lock (_gate) return _stderr.ToString(); } }

    public bool HasExited => _process.HasExited;

    /// <summary>Writes a line to the process's standard input (only for processes started with stdin redirected).</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Writes <paramref name="text"/> to standard input and closes it (the process sees EOF).</summary>
    public void CloseInput(string text = "")
    {
        try
        {
            _process.StandardInput.Write(text);
            _process.StandardInput.Close();
        }
        catch (IOException) { /* the process exited without reading: its result tells */ }
    }

    /// <summary>Waits until <paramref name="marker"/> appears in stdout or stderr. False on timeout or when the process exits first.</summary>
    public bool WaitForOutput(string marker, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (true)
            {
                if (_stdout.ToString().Contains(marker, StringComparison.Ordinal) ||
                    _stderr.ToString().Contains(marker, StringComparison.Ordinal))
                    return true;
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return false;
                if (_process.HasExited)
                {
                    // Output may still be draining; one last short wait.
                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(50));
                    return _stdout.ToString().Contains(marker, StringComparison.Ordinal) ||
                           _stderr.ToString().Contains(marker, StringComparison.Ordinal);
                }
                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Waits for the process to exit; false on timeout.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit(); // drains the asynchronous output readers
        return true;
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Sends a signal to this process only (by PID), using kill(1).</summary>
    public void Signal(string signal)
    {
        if (_process.HasExited) return;
        using var k = Process.Start(new ProcessStartInfo(NetLab.ResolveTool("kill"), ["-s", signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true });
        k?.WaitForExit(5000);
    }

    /// <summary>Asks the process to stop with <paramref name="signal"/>, waits up to <paramref name="grace"/>, then SIGKILLs it. True when it exited on the signal.</summary>
    public bool Stop(string signal, TimeSpan grace)
    {
        if (_process.HasExited) { _process.WaitForExit(); return true; }
        Signal(signal);
        if (WaitForExit(grace)) return true;
        Kill();
        return false;
    }

    /// <summary>SIGKILLs this process (not its children: lab processes run alone in namespaces we delete).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: false);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { /* already gone */ }
    }

    public CommandResult ToResult(bool timedOut) =>
        new(CommandLine, _process.HasExited ? _process.ExitCode : -1, Stdout, Stderr, timedOut);

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
