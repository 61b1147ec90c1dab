using Firewall.Daemon.Tests.Support;

namespace Firewall.Daemon.Tests;

/// <summary>Reload swaps rules and tunables; connections stay; a bad configuration is rejected and the old one stays.</summary>
public sealed class ReloadTests : IDisposable
{
    private readonly DaemonSetup _s = new("reload");

    public ReloadTests()
    {
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
    }

    public void Dispose() => _s.Dispose();

    [Fact]
    public void FwctlReload_AppliesNewRulesAndKeepsEveryConnection()
    {
        using var d = _s.Start();
        string before = Proc.Fwctl(_s.Socket, "conntrack", "-L").Stdout;
        _s.WriteConfig(DaemonSetup.DropNewRules);
        var r = Proc.Fwctl(_s.Socket, "reload");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("reloaded: 1 rules, 2 connections kept", r.Stdout);
        Assert.Contains("Chain FORWARD (policy DROP", Proc.Fwctl(_s.Socket, "rules").Stdout);
        string after = Proc.Fwctl(_s.Socket, "conntrack", "-L").Stdout;
        // same connections (timeouts may have ticked down by a second)
        static string Strip(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"^(\w+\s+\d+) \d+ ", "$1 ", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.Equal(Strip(before), Strip(after));
    }

    [Fact]
    public void ABadConfiguration_IsRejectedNamingTheKey_AndTheOldOneKeepsRunning()
    {
        using var d = _s.Start();
        _s.WriteConfig(DaemonSetup.DropNewRules.Replace("\"ESTABLISHED\"", "\"ESTABLISHEDX\""));
        var r = Proc.Fwctl(_s.Socket, "reload");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Firewall:Rules:Filter:Forward:Rules:0", r.Stderr);
        Assert.Contains("reload rejected", r.Stderr);
        var rejected = d.WaitForEvent("ConfigReloadRejected");
        Assert.Contains("Firewall:Rules:Filter:Forward:Rules:0", rejected.GetProperty("Errors").GetString());
        Assert.Contains("Chain FORWARD (policy ACCEPT", Proc.Fwctl(_s.Socket, "rules").Stdout);
        Assert.Equal("2", Proc.Fwctl(_s.Socket, "conntrack", "-C").Stdout.Trim());
    }

    [Fact]
    public void ABadTunable_IsRejectedNamingTheKey()
    {
        using var d = _s.Start();
        _s.WriteConfig(""" "Conntrack": { "Max": 99999999 }, """ + DaemonSetup.AcceptAllRules);
        var r = Proc.Fwctl(_s.Socket, "reload");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Firewall:Conntrack:Max", r.Stderr);
    }

    [Fact]
    public void EditingTheConfigFile_ReloadsByItself()
    {
        using var d = _s.Start();
        _s.WriteConfig(DaemonSetup.DropNewRules);
        var e = d.WaitForEvent("ConfigReloaded", TimeSpan.FromSeconds(20), x => x.GetProperty("Trigger").GetString() == "file");
        Assert.Equal(1, e.GetProperty("Rules").GetInt32());
        Assert.Equal(2, e.GetProperty("Entries").GetInt32());
    }

    [Fact]
    public void TunablesSwap_AndApplyToTheTable()
    {
        using var d = _s.Start();
        _s.WriteConfig(""" "Conntrack": { "Max": 1000 }, """ + DaemonSetup.AcceptAllRules);
        Assert.Equal(0, Proc.Fwctl(_s.Socket, "reload").ExitCode);
        Assert.Contains("(max 1000)", Proc.Fwctl(_s.Socket, "status").Stdout);
    }
}
