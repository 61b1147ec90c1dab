using Firewall.Core.Conntrack;
using Firewall.Core.Packets;
using Firewall.Core.Rules;
using static Firewall.Core.Tests.Rules.RuleTestKit;

namespace Firewall.Core.Tests.Rules;

/// <summary>-m state and -m conntrack, with the kernel's no-entry rule (reference §11.2).</summary>
public class ConntrackMatchTests
{
    private static ParsedPacket P => Tcp("198.18.0.1", 40000, "198.18.1.1", 22);

    [Theory]
    [InlineData(CtState.New, true)]
    [InlineData(CtState.Established, true)]
    [InlineData(CtState.Related, false)]
    [InlineData(CtState.Invalid, false)]
    [InlineData(CtState.Untracked, false)]
    public void State_List_MatchesListedStatesOnly(CtState state, bool expected)
    {
        Assert.Equal(expected, Matches("-m state --state NEW,ESTABLISHED", P, Conn(state)));
    }

    [Theory]
    [InlineData(CtState.New, false)]
    [InlineData(CtState.Invalid, true)]
    [InlineData(CtState.Untracked, true)]
    public void State_Inverted_MatchesUnlistedStates(CtState state, bool expected)
    {
        Assert.Equal(expected, Matches("-m state ! --state NEW", P, Conn(state)));
    }

    [Fact]
    public void State_IsSavedInCanonicalOrder()
    {
        var rs = Input("DROP", "-m state --state ESTABLISHED,RELATED -j ACCEPT");
        Assert.Equal("-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT", rs.Rules[0].ToString());
    }

    [Theory]
    [InlineData(CtState.Related, true)]
    [InlineData(CtState.Established, true)]
    [InlineData(CtState.New, false)]
    [InlineData(CtState.Invalid, false)]
    public void Ctstate_List_MatchesListedStatesOnly(CtState state, bool expected)
    {
        Assert.Equal(expected, Matches("-m conntrack --ctstate RELATED,ESTABLISHED", P, Conn(state)));
    }

    [Fact]
    public void Ctstate_Untracked_MatchesUntrackedPackets()
    {
        Assert.True(Matches("-m conntrack --ctstate UNTRACKED", P, Conn(CtState.Untracked)));
        Assert.False(Matches("-m conntrack --ctstate UNTRACKED", P, Conn(CtState.Invalid)));
    }

    [Fact]
    public void Ctstate_Inverted_MatchesNoEntryPackets()
    {
        Assert.True(Matches("-m conntrack ! --ctstate NEW", P, Conn(CtState.Invalid)));
        Assert.False(Matches("-m conntrack ! --ctstate NEW", P, Conn(CtState.New)));
    }

    [Fact]
    public void Ctstate_SavedInCanonicalOrder()
    {
        var rs = Input("DROP", "-m conntrack --ctstate UNTRACKED,ESTABLISHED,INVALID,NEW,RELATED -j ACCEPT");
        Assert.Equal("-A INPUT -m conntrack --ctstate INVALID,NEW,RELATED,ESTABLISHED,UNTRACKED -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void NoEntry_InvertedOrigsrc_DoesNotMatchInvalid()
    {
        Assert.False(Matches("-m conntrack ! --ctorigsrc 10.0.0.77", P, Conn(CtState.Invalid)));
    }

    [Fact]
    public void NoEntry_Ctstatus_NeverMatchesInvalid()
    {
        Assert.False(Matches("-m conntrack ! --ctstatus ASSURED", P, Conn(CtState.Invalid)));
    }

    [Fact]
    public void NoEntry_CtstateGiven_SkipsTheOtherOptions()
    {
        // --ctstatus ASSURED would fail, but without an entry only --ctstate counts.
        Assert.True(Matches("-m conntrack --ctstate INVALID --ctstatus ASSURED", P, Conn(CtState.Invalid)));
    }

    [Fact]
    public void Ctstatus_MatchesWhenAnyListedBitIsSet()
    {
        var ct = Conn(CtState.Established, CtStatus.Confirmed | CtStatus.SeenReply);
        Assert.True(Matches("-m conntrack --ctstatus ASSURED,SEEN_REPLY", P, ct));
        Assert.False(Matches("-m conntrack --ctstatus ASSURED,EXPECTED", P, ct));
    }

    [Fact]
    public void Ctstatus_Inverted_MatchesWhenNoListedBitIsSet()
    {
        var ct = Conn(CtState.Established, CtStatus.Confirmed);
        Assert.True(Matches("-m conntrack ! --ctstatus ASSURED", P, ct));
        Assert.False(Matches("-m conntrack ! --ctstatus CONFIRMED", P, ct));
    }

    [Fact]
    public void Ctstatus_None_NeverMatches()
    {
        Assert.False(Matches("-m conntrack --ctstatus NONE", P, Conn(CtState.New, CtStatus.None)));
    }

    [Fact]
    public void Ctstatus_InvertedNone_MatchesEveryTrackedPacket()
    {
        Assert.True(Matches("-m conntrack ! --ctstatus NONE", P, Conn(CtState.New, CtStatus.None)));
        Assert.True(Matches("-m conntrack ! --ctstatus NONE", P, Conn(CtState.Established)));
    }

    [Fact]
    public void Ctdir_MatchesPacketDirection()
    {
        Assert.True(Matches("-m conntrack --ctdir REPLY", P, Conn(CtState.Established, dir: CtDirection.Reply)));
        Assert.False(Matches("-m conntrack --ctdir REPLY", P, Conn(CtState.Established, dir: CtDirection.Original)));
        Assert.True(Matches("-m conntrack --ctdir ORIGINAL", P, Conn(CtState.Established, dir: CtDirection.Original)));
    }

    [Fact]
    public void Ctproto_MatchesEntryProtocol()
    {
        Assert.True(Matches("-m conntrack --ctproto tcp", P, Established));
        Assert.False(Matches("-m conntrack --ctproto udp", P, Established));
        Assert.True(Matches("-m conntrack ! --ctproto udp", P, Established));
    }

    [Fact]
    public void Ctproto_IsSavedAsNumber()
    {
        var rs = Input("DROP", "-m conntrack --ctproto tcp -j ACCEPT");
        Assert.Equal("-A INPUT -m conntrack --ctproto 6 -j ACCEPT", rs.Rules[0].ToString());
    }

    [Fact]
    public void Ctorigsrc_ComparesOriginalSource()
    {
        Assert.True(Matches("-m conntrack --ctorigsrc 198.18.0.0/24", P, Established));
        Assert.False(Matches("-m conntrack --ctorigsrc 198.18.1.0/24", P, Established));
    }

    [Fact]
    public void Ctorigsrc_Inverted()
    {
        Assert.False(Matches("-m conntrack ! --ctorigsrc 198.18.0.1", P, Established));
        Assert.True(Matches("-m conntrack ! --ctorigsrc 198.18.0.2", P, Established));
    }

    [Fact]
    public void Ctorigdst_ComparesOriginalDestination()
    {
        Assert.True(Matches("-m conntrack --ctorigdst 198.18.1.1", P, Established));
        Assert.False(Matches("-m conntrack --ctorigdst 198.18.0.1", P, Established));
    }

    [Fact]
    public void Ctreplsrc_ComparesReplySource()
    {
        Assert.True(Matches("-m conntrack --ctreplsrc 198.18.1.1", P, Established));
        Assert.False(Matches("-m conntrack --ctreplsrc 198.18.0.1", P, Established));
    }

    [Fact]
    public void Ctrepldst_ComparesReplyDestination()
    {
        Assert.True(Matches("-m conntrack --ctrepldst 198.18.0.1", P, Established));
        Assert.False(Matches("-m conntrack --ctrepldst 198.18.1.1", P, Established));
    }

    [Fact]
    public void Ctorigdstport_ComparesOriginalDestinationPort()
    {
        Assert.True(Matches("-m conntrack --ctorigdstport 22", P, Established));
        Assert.False(Matches("-m conntrack --ctorigdstport 23:100", P, Established));
        Assert.True(Matches("-m conntrack ! --ctreplsrcport 23", P, Established));
    }

    [Fact]
    public void Ctexpire_MatchesRemainingSecondsInRange()
    {
        var ct = Established; // 300 s left
        Assert.True(Matches("-m conntrack --ctexpire 100:300", P, ct));
        Assert.False(Matches("-m conntrack --ctexpire 301:400", P, ct));
        Assert.True(Matches("-m conntrack --ctexpire 300", P, ct));
    }

    [Fact]
    public void Ctexpire_Inverted()
    {
        Assert.False(Matches("-m conntrack ! --ctexpire 100:300", P, Established));
        Assert.True(Matches("-m conntrack ! --ctexpire 0:10", P, Established));
    }

    [Fact]
    public void Conntrack_SavesOptionsInCanonicalOrder()
    {
        var rs = Input("DROP", "-m conntrack --ctdir REPLY --ctexpire 10:20 --ctstatus CONFIRMED,ASSURED --ctorigsrc 198.18.0.0/16 ! --ctstate NEW -j ACCEPT");
        Assert.Equal("-A INPUT -m conntrack ! --ctstate NEW --ctorigsrc 198.18.0.0/16 --ctstatus ASSURED,CONFIRMED --ctexpire 10:20 --ctdir REPLY -j ACCEPT",
            rs.Rules[0].ToString());
    }
}
