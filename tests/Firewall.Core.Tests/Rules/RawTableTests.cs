using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>raw table: CT --notrack, NOTRACK, CT --helper, CT --zone, raw DROP.</summary>
public class RawTableTests
{
    private static TrackOptions Raw(RuleSet rs, ParsedPacket p, out Verdict v, RawHook hook = RawHook.Prerouting)
    {
        var meta = new PacketMeta(hook == RawHook.Prerouting ? "eth0" : null, hook == RawHook.Output ? "eth0" : null, p.IsV6);
        return rs.EvaluateRaw(hook, ref p, in meta, 0, out v);
    }

    [Fact]
    public void CtNotrack_MarksPacketUntracked()
    {
        var rs = Load("*raw\n-A PREROUTING -p udp --dport 53 -j CT --notrack\nCOMMIT\n");
        var o = Raw(rs, Udp("198.18.0.1", 5000, "198.18.1.1", 53), out var v);
        Assert.True(o.NoTrack);
        Assert.Equal(Verdict.Accept, v);
        Assert.False(Raw(rs, Udp("198.18.0.1", 5000, "198.18.1.1", 54), out _).NoTrack);
    }

    [Fact]
    public void Notrack_IsTheOldSpellingAndSavesAsCtNotrack()
    {
        var rs = Load("*raw\n-A OUTPUT -p udp --sport 53 -j NOTRACK\nCOMMIT\n");
        Assert.True(Raw(rs, Udp("198.18.1.1", 53, "198.18.0.1", 5000), out _, RawHook.Output).NoTrack);
        Assert.Equal("-A OUTPUT -p udp -m udp --sport 53 -j CT --notrack", rs.Rules[0].ToString());
    }

    [Fact]
    public void CtHelper_SetsHelperId()
    {
        var rs = Load("*raw\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\n-A PREROUTING -p udp --dport 69 -j CT --helper tftp\nCOMMIT\n");
        Assert.Equal(HelperIds.Ftp, Raw(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 21), out _).HelperId);
        Assert.Equal(HelperIds.Tftp, Raw(rs, Udp("198.18.0.1", 1, "198.18.1.1", 69), out _).HelperId);
        Assert.Equal(HelperIds.None, Raw(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 22), out _).HelperId);
    }

    [Fact]
    public void CtZone_SetsZone()
    {
        var rs = Load("*raw\n-A PREROUTING -i eth0 -j CT --zone 7\nCOMMIT\n");
        Assert.Equal(7, Raw(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 21), out _).Zone);
    }

    [Fact]
    public void NoCtRule_KeepsDefaultsPerHook()
    {
        var rs = Load("*raw\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n");
        var pre = Raw(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 21), out _);
        var outp = Raw(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 21), out _, RawHook.Output);
        Assert.Equal(-1, pre.Zone);
        Assert.True(pre.VerifyChecksum);
        Assert.False(outp.VerifyChecksum);
    }

    [Fact]
    public void FirstCtRule_Wins()
    {
        var rs = Load("*raw\n-A PREROUTING -p tcp -j CT --zone 3\n-A PREROUTING -p tcp -j CT --notrack\nCOMMIT\n");
        var o = Raw(rs, Tcp("198.18.0.1", 1, "198.18.1.1", 21), out _);
        Assert.Equal(3, o.Zone);
        Assert.False(o.NoTrack);
    }

    [Fact]
    public void RawDrop_ReturnsDrop()
    {
        var rs = Load("*raw\n-A PREROUTING -s 198.18.66.0/24 -j DROP\nCOMMIT\n");
        Raw(rs, Tcp("198.18.66.1", 1, "198.18.1.1", 21), out var v);
        Assert.Equal(Verdict.Drop, v);
    }

    [Fact]
    public void CtHelper_WithoutProtocol_IsAnError()
    {
        var errors = Errors("*raw\n-A PREROUTING --dport 21 -j CT --helper ftp\nCOMMIT\n");
        Assert.Equal("rules.v4:2: unsupported option --dport", Assert.Single(errors));
        errors = Errors("*raw\n-A PREROUTING -j CT --helper ftp\nCOMMIT\n");
        Assert.Equal("rules.v4:2: --helper: you must specify a L4 protocol (-p tcp or -p udp) and not use inversions on it", Assert.Single(errors));
    }

    [Fact]
    public void CtHelper_InvertedProtocol_IsAnError()
    {
        var errors = Errors("*raw\n-A PREROUTING ! -p tcp -j CT --helper ftp\nCOMMIT\n");
        Assert.Equal("rules.v4:2: --helper: you must specify a L4 protocol (-p tcp or -p udp) and not use inversions on it", Assert.Single(errors));
    }

    [Fact]
    public void CtHelper_WrongProtocol_IsAnError()
    {
        var errors = Errors("*raw\n-A PREROUTING -p udp -j CT --helper ftp\nCOMMIT\n");
        Assert.Equal("rules.v4:2: --helper: no such helper \"ftp\" for udp (supported: ftp and irc over tcp, tftp over udp)", Assert.Single(errors));
    }

    [Fact]
    public void Ct_InFilterTable_IsAnError()
    {
        var errors = Errors("*filter\n-A INPUT -j CT --notrack\nCOMMIT\n");
        Assert.Equal("rules.v4:2: CT and NOTRACK are only valid in the raw table", Assert.Single(errors));
    }

    [Fact]
    public void Reject_InRawTable_IsAnError()
    {
        var errors = Errors("*raw\n-A PREROUTING -j REJECT\nCOMMIT\n");
        Assert.Equal("rules.v4:2: REJECT is only valid in the filter table", Assert.Single(errors));
    }
}
