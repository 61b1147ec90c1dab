namespace Firewall.Integration.Tests.Lab;

/// <summary>
/// Where lab programs (servers, clients) run: one namespace of a <see cref="NetLab"/>. With
/// <see cref="PinToCpu0"/> every program runs under <c>taskset -c 0</c>, so that packets from both ends of a
/// connection are processed on one CPU in the order they were sent (the differential lab needs this). Processes
/// started here belong to the lab: its Dispose ends them by PID.
/// </summary>
public sealed record LabHost(NetLab Lab, string Namespace, bool PinToCpu0 = false)
{
    /// <summary>Runs <paramref name="program"/> to completion (stdin = <paramref name="input"/>, then EOF); never throws on failure.</summary>
    public CommandResult Run(TimeSpan timeout, string program, IReadOnlyList<string> args, string? input = null) =>
        PinToCpu0
            ? Lab.Run(Namespace, timeout, "taskset", ["-c", "0", NetLab.ResolveTool(program), .. args], input)
            : Lab.Run(Namespace, timeout, program, args, input);

    /// <summary>Starts <paramref name="program"/> in the background (its PID is the program's own: ip netns exec and taskset exec it).</summary>
    public LabProcess Start(string program, params string[] args) =>
        PinToCpu0
            ? Lab.StartBackground(Namespace, "taskset", ["-c", "0", NetLab.ResolveTool(program), .. args])
            : Lab.StartBackground(Namespace, program, args);

    /// <summary>Waits until <paramref name="server"/> listens on <paramref name="port"/>; throws with its output when it exited or timed out.</summary>
    public void WaitForListener(LabProcess server, int port, bool udp = false, string? address = null)
    {
        bool exited = false;
        if (NetLab.WaitUntil(() => (exited = server.HasExited) || Lab.WaitForListener(Namespace, port, udp, address, TimeSpan.Zero),
                             TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20)) && !exited)
            return;
        string state = server.HasExited ? $"exited with {server.ExitCode}" : "is still running but not listening";
        throw new InvalidOperationException(
            $"{server.CommandLine} {state} ({(udp ? "udp" : "tcp")} port {port} in {Namespace}): {server.Stdout.Trim()} {server.Stderr.Trim()}");
    }
}
