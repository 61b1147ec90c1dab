using Firewall.Daemon.Tests.Support;

namespace Firewall.Daemon.Tests;

/// <summary>A bad value stops start-up with exit code 2 and a message naming the key.</summary>
public sealed class OptionsValidationTests : IDisposable
{
    private readonly DaemonSetup _s = new("opts");

    public OptionsValidationTests()
    {
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
    }

    public void Dispose() => _s.Dispose();

    private ProcResult RunWith(params string[] args) =>
        Proc.Run(Paths.Dotnet, ["exec", Paths.DaemonDll, .. _s.Args(args)], TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData("--Firewall:Conntrack:Max=-5", "Firewall:Conntrack:Max")]
    [InlineData("--Firewall:State:SaveIntervalSeconds=-1", "Firewall:State:SaveIntervalSeconds")]
    [InlineData("--Firewall:State:Directory=relative/dir", "Firewall:State:Directory")]
    [InlineData("--Firewall:Control:SocketPath=control.sock", "Firewall:Control:SocketPath")]
    [InlineData("--Firewall:Logging:ConntrackEventsPerSecond=0", "Firewall:Logging:ConntrackEventsPerSecond")]
    [InlineData("--Firewall:DataPath:Replay:Capture=", "Firewall:DataPath:Replay:Capture")]
    [InlineData("--Firewall:DataPath:CpuDmaLatencyUs=-1", "Firewall:DataPath:CpuDmaLatencyUs")]
    public void BadValue_StopsStartUpNamingTheKey(string arg, string key)
    {
        var r = RunWith(arg);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("configuration error", r.Stderr);
        Assert.Contains(key, r.Stderr);
    }

    [Theory]
    [InlineData("100")]   // not a power of two
    [InlineData("32")]    // too small
    public void BridgeTxRingFrames_MustBeAPowerOfTwoInRange(string frames)
    {
        var r = RunWith("--Firewall:DataPath:Mode=Bridge", "--Firewall:DataPath:Bridge:Interfaces:0=a0", "--Firewall:DataPath:Bridge:Interfaces:1=a1",
                        $"--Firewall:DataPath:Bridge:TxRingFrames={frames}");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("Firewall:DataPath:Bridge:TxRingFrames must be a power of two", r.Stderr);
    }

    [Theory]
    [InlineData("Bridge", "-1")]
    [InlineData("Bridge", "1000001")]
    [InlineData("Nfqueue", "-5")]
    [InlineData("Nfqueue", "2000000")]
    public void BusyPollUs_MustBeBetween0And1000000(string mode, string value)
    {
        var r = RunWith($"--Firewall:DataPath:Mode={mode}", "--Firewall:DataPath:Bridge:Interfaces:0=a0", "--Firewall:DataPath:Bridge:Interfaces:1=a1",
                        $"--Firewall:DataPath:{mode}:BusyPollUs={value}");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains($"Firewall:DataPath:{mode}:BusyPollUs must be between 0 and 1000000 microseconds (got {value})", r.Stderr);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1024")]
    public void ReaderCpus_MustBeCpuNumbers(string value)
    {
        var r = RunWith("--Firewall:DataPath:Mode=Nfqueue", "--Firewall:DataPath:ReaderCpus:0=0", $"--Firewall:DataPath:ReaderCpus:1={value}");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains($"Firewall:DataPath:ReaderCpus entries must be CPU numbers between 0 and 1023 (got {value})", r.Stderr);
    }

    [Fact]
    public void MetricsOnANonLoopbackAddress_IsRefusedUnlessAllowed()
    {
        var r = RunWith("--Firewall:Metrics:Enabled=true", "--Firewall:Metrics:Address=0.0.0.0");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("Firewall:Metrics:Address", r.Stderr);
        Assert.Contains("loopback", r.Stderr);
    }

    [Fact]
    public void BadRule_StopsStartUpNamingTheRule()
    {
        _s.WriteConfig("""
            "Rules": { "Filter": { "Forward": { "Rules": [ { "Protocol": "tcp", "DPort": "99999", "Action": "ACCEPT" } ] } } }
            """);
        var r = RunWith();
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("Firewall:Rules:Filter:Forward:Rules:0", r.Stderr);
    }
}
