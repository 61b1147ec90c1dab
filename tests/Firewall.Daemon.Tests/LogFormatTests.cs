using System.Text.Json;
using Firewall.Daemon.Logging;
using Firewall.Daemon.Tests.Support;
using Serilog.Events;
using Serilog.Parsing;

namespace Firewall.Daemon.Tests;

public sealed class LogFormatTests
{
    private static LogEvent Event(LogEventLevel level, string template, params (string Name, object Value)[] props) =>
        new(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), level, null, new MessageTemplateParser().Parse(template),
            props.Select(p => new LogEventProperty(p.Name, new ScalarValue(p.Value))));

    private static string Format(LogEvent e, bool journal)
    {
        var w = new StringWriter();
        new CompactJsonFormatter(journal).Format(e, w);
        return w.ToString();
    }

    [Fact]
    public void CompactJson_CarriesTimeLevelEventNameTemplateAndTypedProperties()
    {
        string line = Format(Event(LogEventLevel.Warning, "ConntrackTableFull {Entries}/{Max}", ("Entries", 10), ("Max", 10)), journal: false);
        Assert.EndsWith("\n", line);
        Assert.DoesNotContain('\n', line.TrimEnd('\n'));
        var j = JsonDocument.Parse(line).RootElement;
        Assert.Equal("2025-01-02T03:04:05.0000000Z", j.GetProperty("@t").GetString());
        Assert.Equal("Warning", j.GetProperty("@l").GetString());
        Assert.Equal("ConntrackTableFull", j.GetProperty("@e").GetString());
        Assert.Equal("ConntrackTableFull {Entries}/{Max}", j.GetProperty("@mt").GetString());
        Assert.Equal("ConntrackTableFull 10/10", j.GetProperty("@m").GetString());
        Assert.Equal(JsonValueKind.Number, j.GetProperty("Entries").ValueKind);
        Assert.Equal(10, j.GetProperty("Max").GetInt32());
    }

    [Theory]
    [InlineData(LogEventLevel.Error, "<3>")]
    [InlineData(LogEventLevel.Warning, "<4>")]
    [InlineData(LogEventLevel.Information, "<6>")]
    [InlineData(LogEventLevel.Debug, "<7>")]
    [InlineData(LogEventLevel.Fatal, "<2>")]
    public void UnderJournald_LinesStartWithTheSyslogPriority(LogEventLevel level, string prefix)
    {
        string line = Format(Event(level, "Something {X}", ("X", 1)), journal: true);
        Assert.StartsWith(prefix + "{", line);
        JsonDocument.Parse(line[prefix.Length..]); // the rest is the JSON object
    }

    [Fact]
    public void WithoutJournald_LinesAreBareJson()
    {
        string line = Format(Event(LogEventLevel.Information, "Something"), journal: false);
        Assert.StartsWith("{", line);
    }

    [Fact]
    public void PropertyNamesStartingWithAt_AreEscaped()
    {
        var j = JsonDocument.Parse(Format(Event(LogEventLevel.Information, "X {@t}", ("@t", "mine")), journal: false)).RootElement;
        Assert.Equal("2025-01-02T03:04:05.0000000Z", j.GetProperty("@t").GetString());
        Assert.Equal("mine", j.GetProperty("@@t").GetString());
    }
}

/// <summary>The daemon's own events, as it writes them: stable names, the properties they promise, rate limits.</summary>
public sealed class DaemonLogEventTests : IDisposable
{
    private readonly DaemonSetup _s = new("logs");

    public void Dispose() => _s.Dispose();

    [Fact]
    public void StartUpSummary_RuleLogHitsAndInvalidAggregate_AreStructured()
    {
        var packets = Captures.EstablishedTcpAndUdp();
        // an unsolicited SYN/ACK is INVALID (no entry, not a SYN): it feeds the INVALID aggregate
        packets.Add(Firewall.Core.Tests.Packets.FrameBuilder.Ipv4(Captures.Server, Captures.Client, 6,
            Firewall.Core.Tests.Packets.FrameBuilder.Tcp(81, 41000, seq: 9, ack: 77, flags: 0x12)));
        Captures.Write(_s.Capture, packets);
        _s.WriteConfig("""
            "Logging": { "InvalidIntervalSeconds": 1 },
            "Rules": { "Filter": { "Forward": { "Rules": [ { "Protocol": "udp", "DPort": "53", "Action": "LOG", "LogPrefix": "dns: " } ] } } }
            """);
        using var d = _s.Start();
        var started = d.WaitForEvent("DaemonStarted");
        Assert.Equal("replay", started.GetProperty("DataPath").GetString());
        Assert.Equal(1, started.GetProperty("Rules").GetInt32());
        Assert.True(started.GetProperty("TableMax").GetInt32() > 0);

        var hit = d.WaitForEvent("RuleLogHit");
        Assert.Equal("dns: ", hit.GetProperty("LogPrefix").GetString());
        Assert.Equal("udp", hit.GetProperty("Protocol").GetString());
        Assert.Equal(Captures.Client, hit.GetProperty("Source").GetString());
        Assert.Equal(Captures.Server, hit.GetProperty("Destination").GetString());
        Assert.Equal(5000, hit.GetProperty("SourcePort").GetInt32());
        Assert.Equal(53, hit.GetProperty("DestinationPort").GetInt32());
        Assert.Equal("NEW", hit.GetProperty("State").GetString());
        Assert.Equal("FORWARD", hit.GetProperty("Chain").GetString());

        var invalid = d.WaitForEvent("InvalidPackets");
        Assert.True(invalid.GetProperty("Total").GetInt64() >= 1);
        Assert.Equal(JsonValueKind.Object, invalid.GetProperty("ByReason").ValueKind);
        Assert.Equal(0, d.Stop());
        var saved = d.WaitForEvent("StateSaved");
        Assert.Equal("stop", saved.GetProperty("Reason").GetString());
    }

    [Fact]
    public void RuleLogFlood_IsRateLimitedAndTheSuppressedAreCounted()
    {
        var packets = new List<byte[]>();
        for (int i = 0; i < 400; i++)
            packets.Add(Firewall.Core.Tests.Packets.FrameBuilder.Ipv4(Captures.Client, Captures.Server, 17,
                Firewall.Core.Tests.Packets.FrameBuilder.Udp((ushort)(10000 + i), 9999, "x"u8.ToArray())));
        Captures.Write(_s.Capture, packets);
        _s.WriteConfig("""
            "Logging": { "SuppressedReportSeconds": 1 },
            "Rules": { "Log": { "RatePerSecond": 5, "Burst": 10 },
                       "Filter": { "Forward": { "Rules": [ { "Protocol": "udp", "Action": "LOG" } ] } } }
            """);
        using var d = _s.Start();
        var suppressed = d.WaitForEvent("EventsSuppressed", where: e => e.GetProperty("SuppressedEvent").GetString() == "RuleLogHit");
        int logged = d.Events("RuleLogHit").Count;
        Assert.InRange(logged, 1, 40);
        Assert.True(suppressed.GetProperty("Suppressed").GetInt64() >= 400 - 40, $"suppressed {suppressed}");
    }

    [Fact]
    public void ConntrackEvents_AreOffByDefaultAndLoggedWhenEnabled()
    {
        Captures.Write(_s.Capture, Captures.EstablishedTcpAndUdp());
        _s.WriteConfig();
        using (var off = _s.Start())
        {
            Thread.Sleep(600);
            Assert.Empty(off.Events("ConntrackNew"));
        }
        _s.WriteConfig("""
            "Logging": { "ConntrackEvents": true },
            "Rules": { "Filter": { "Forward": { "Policy": "ACCEPT" } } }
            """);
        File.Delete(Path.Combine(_s.StateDir, "conntrack.state")); // a fresh table: the flows are new again
        using var on = _s.Start();
        var e = on.WaitForEvent("ConntrackNew", where: x => x.GetProperty("Protocol").GetString() == "tcp");
        Assert.Equal(Captures.Client, e.GetProperty("Source").GetString());
        Assert.Equal(80, e.GetProperty("DestinationPort").GetInt32());
    }
}
