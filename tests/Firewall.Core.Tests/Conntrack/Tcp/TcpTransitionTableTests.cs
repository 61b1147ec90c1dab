using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>
/// Every cell of conntrack-reference.md §4.5 (both directions, 10 states × 6 packet kinds), typed from the
/// reference's tables. Each cell is checked in the table data and through <see cref="TcpTracker.Packet"/> on a
/// window-liberal entry (so only the table decides): IV → INVALID, IG → ignored, a state → accepted into it.
/// "SS*" is the reopen cell of 4.7.1: without CLOSE_INIT or an own RST it is handled as IG.
/// </summary>
public class TcpTransitionTableTests
{
    private static readonly ConntrackSettings Liberal = Conn.With(o => o.TcpBeLiberal = true);

    [Theory]
    [InlineData(CtDirection.Original, TcpState.None, TcpPacketKind.Syn, "SS")]
    [InlineData(CtDirection.Original, TcpState.None, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.None, TcpPacketKind.Fin, "IV")]
    [InlineData(CtDirection.Original, TcpState.None, TcpPacketKind.Ack, "ES")]
    [InlineData(CtDirection.Original, TcpState.None, TcpPacketKind.Rst, "IV")]
    [InlineData(CtDirection.Original, TcpState.None, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent, TcpPacketKind.Syn, "SS")]
    [InlineData(CtDirection.Original, TcpState.SynSent, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent, TcpPacketKind.Fin, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent, TcpPacketKind.Ack, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.SynSent, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynRecv, TcpPacketKind.Syn, "IG")]
    [InlineData(CtDirection.Original, TcpState.SynRecv, TcpPacketKind.SynAck, "SR")]
    [InlineData(CtDirection.Original, TcpState.SynRecv, TcpPacketKind.Fin, "FW")]
    [InlineData(CtDirection.Original, TcpState.SynRecv, TcpPacketKind.Ack, "ES")]
    [InlineData(CtDirection.Original, TcpState.SynRecv, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.SynRecv, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.Established, TcpPacketKind.Syn, "IG")]
    [InlineData(CtDirection.Original, TcpState.Established, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.Established, TcpPacketKind.Fin, "FW")]
    [InlineData(CtDirection.Original, TcpState.Established, TcpPacketKind.Ack, "ES")]
    [InlineData(CtDirection.Original, TcpState.Established, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.Established, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.FinWait, TcpPacketKind.Syn, "IG")]
    [InlineData(CtDirection.Original, TcpState.FinWait, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.FinWait, TcpPacketKind.Fin, "LA")]
    [InlineData(CtDirection.Original, TcpState.FinWait, TcpPacketKind.Ack, "CW")]
    [InlineData(CtDirection.Original, TcpState.FinWait, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.FinWait, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.CloseWait, TcpPacketKind.Syn, "IG")]
    [InlineData(CtDirection.Original, TcpState.CloseWait, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.CloseWait, TcpPacketKind.Fin, "LA")]
    [InlineData(CtDirection.Original, TcpState.CloseWait, TcpPacketKind.Ack, "CW")]
    [InlineData(CtDirection.Original, TcpState.CloseWait, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.CloseWait, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.LastAck, TcpPacketKind.Syn, "IG")]
    [InlineData(CtDirection.Original, TcpState.LastAck, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.LastAck, TcpPacketKind.Fin, "LA")]
    [InlineData(CtDirection.Original, TcpState.LastAck, TcpPacketKind.Ack, "TW")]
    [InlineData(CtDirection.Original, TcpState.LastAck, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.LastAck, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.TimeWait, TcpPacketKind.Syn, "SS*")]
    [InlineData(CtDirection.Original, TcpState.TimeWait, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.TimeWait, TcpPacketKind.Fin, "TW")]
    [InlineData(CtDirection.Original, TcpState.TimeWait, TcpPacketKind.Ack, "TW")]
    [InlineData(CtDirection.Original, TcpState.TimeWait, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.TimeWait, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.Close, TcpPacketKind.Syn, "SS*")]
    [InlineData(CtDirection.Original, TcpState.Close, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Original, TcpState.Close, TcpPacketKind.Fin, "CL")]
    [InlineData(CtDirection.Original, TcpState.Close, TcpPacketKind.Ack, "CL")]
    [InlineData(CtDirection.Original, TcpState.Close, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.Close, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent2, TcpPacketKind.Syn, "S2")]
    [InlineData(CtDirection.Original, TcpState.SynSent2, TcpPacketKind.SynAck, "SR")]
    [InlineData(CtDirection.Original, TcpState.SynSent2, TcpPacketKind.Fin, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent2, TcpPacketKind.Ack, "IV")]
    [InlineData(CtDirection.Original, TcpState.SynSent2, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Original, TcpState.SynSent2, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.None, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.None, TcpPacketKind.SynAck, "IV")]
    [InlineData(CtDirection.Reply, TcpState.None, TcpPacketKind.Fin, "IV")]
    [InlineData(CtDirection.Reply, TcpState.None, TcpPacketKind.Ack, "IV")]
    [InlineData(CtDirection.Reply, TcpState.None, TcpPacketKind.Rst, "IV")]
    [InlineData(CtDirection.Reply, TcpState.None, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.SynSent, TcpPacketKind.Syn, "S2")]
    [InlineData(CtDirection.Reply, TcpState.SynSent, TcpPacketKind.SynAck, "SR")]
    [InlineData(CtDirection.Reply, TcpState.SynSent, TcpPacketKind.Fin, "IV")]
    [InlineData(CtDirection.Reply, TcpState.SynSent, TcpPacketKind.Ack, "IG")]
    [InlineData(CtDirection.Reply, TcpState.SynSent, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.SynSent, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.SynRecv, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.SynRecv, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.SynRecv, TcpPacketKind.Fin, "FW")]
    [InlineData(CtDirection.Reply, TcpState.SynRecv, TcpPacketKind.Ack, "SR")]
    [InlineData(CtDirection.Reply, TcpState.SynRecv, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.SynRecv, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.Established, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.Established, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.Established, TcpPacketKind.Fin, "FW")]
    [InlineData(CtDirection.Reply, TcpState.Established, TcpPacketKind.Ack, "ES")]
    [InlineData(CtDirection.Reply, TcpState.Established, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.Established, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.FinWait, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.FinWait, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.FinWait, TcpPacketKind.Fin, "LA")]
    [InlineData(CtDirection.Reply, TcpState.FinWait, TcpPacketKind.Ack, "CW")]
    [InlineData(CtDirection.Reply, TcpState.FinWait, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.FinWait, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.CloseWait, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.CloseWait, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.CloseWait, TcpPacketKind.Fin, "LA")]
    [InlineData(CtDirection.Reply, TcpState.CloseWait, TcpPacketKind.Ack, "CW")]
    [InlineData(CtDirection.Reply, TcpState.CloseWait, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.CloseWait, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.LastAck, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.LastAck, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.LastAck, TcpPacketKind.Fin, "LA")]
    [InlineData(CtDirection.Reply, TcpState.LastAck, TcpPacketKind.Ack, "TW")]
    [InlineData(CtDirection.Reply, TcpState.LastAck, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.LastAck, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.TimeWait, TcpPacketKind.Syn, "SS*")]
    [InlineData(CtDirection.Reply, TcpState.TimeWait, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.TimeWait, TcpPacketKind.Fin, "TW")]
    [InlineData(CtDirection.Reply, TcpState.TimeWait, TcpPacketKind.Ack, "TW")]
    [InlineData(CtDirection.Reply, TcpState.TimeWait, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.TimeWait, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.Close, TcpPacketKind.Syn, "IV")]
    [InlineData(CtDirection.Reply, TcpState.Close, TcpPacketKind.SynAck, "IG")]
    [InlineData(CtDirection.Reply, TcpState.Close, TcpPacketKind.Fin, "CL")]
    [InlineData(CtDirection.Reply, TcpState.Close, TcpPacketKind.Ack, "CL")]
    [InlineData(CtDirection.Reply, TcpState.Close, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.Close, TcpPacketKind.None, "IV")]
    [InlineData(CtDirection.Reply, TcpState.SynSent2, TcpPacketKind.Syn, "S2")]
    [InlineData(CtDirection.Reply, TcpState.SynSent2, TcpPacketKind.SynAck, "SR")]
    [InlineData(CtDirection.Reply, TcpState.SynSent2, TcpPacketKind.Fin, "IV")]
    [InlineData(CtDirection.Reply, TcpState.SynSent2, TcpPacketKind.Ack, "IG")]
    [InlineData(CtDirection.Reply, TcpState.SynSent2, TcpPacketKind.Rst, "CL")]
    [InlineData(CtDirection.Reply, TcpState.SynSent2, TcpPacketKind.None, "IV")]
    public void Cell(CtDirection dir, TcpState state, TcpPacketKind kind, string expected)
    {
        TcpState cell = Abbrev(expected.TrimEnd('*'));
        Assert.Equal(cell, TcpTransitionTable.Next(dir, state, kind));

        var s = default(TcpConnState);
        s.LastIndex = TcpPacketKind.None;
        var p = new Seg(FlagsOf(kind), 1000, 2000, 1000).Parse();
        var r = TcpTracker.Packet(ref s, state, CtStatus.SeenReply, dir, ref p, Liberal, 10_000);

        switch (expected)
        {
            case "IV":
                Assert.Equal(TcpVerdict.Invalid, r.Verdict);
                Assert.Equal(InvalidReason.TcpInvalidState, r.Reason);
                break;
            case "IG" or "SS*":
                Assert.Equal(TcpVerdict.Ignore, r.Verdict);
                break;
            default:
                Assert.Equal(TcpVerdict.Accept, r.Verdict);
                Assert.Equal(cell, r.NewState);
                break;
        }
    }

    [Theory]
    [InlineData(F.Rst, TcpPacketKind.Rst)]
    [InlineData(F.RstAck, TcpPacketKind.Rst)]
    [InlineData(F.Rst | F.Syn, TcpPacketKind.Rst)]
    [InlineData(F.Syn, TcpPacketKind.Syn)]
    [InlineData(F.Syn | F.Ece | F.Cwr, TcpPacketKind.Syn)]
    [InlineData(F.SynAck, TcpPacketKind.SynAck)]
    [InlineData(F.Syn | F.Fin, TcpPacketKind.Syn)]
    [InlineData(F.FinAck, TcpPacketKind.Fin)]
    [InlineData(F.Fin, TcpPacketKind.Fin)]
    [InlineData(F.Ack, TcpPacketKind.Ack)]
    [InlineData(F.PshAck | F.Urg, TcpPacketKind.Ack)]
    [InlineData(0, TcpPacketKind.None)]
    [InlineData(F.Psh | F.Urg | F.Ece | F.Cwr, TcpPacketKind.None)]
    public void PacketKind_FollowsFlagPriority(byte flags, TcpPacketKind kind)
        => Assert.Equal(kind, TcpTransitionTable.KindOf(flags));

    [Fact]
    public void StateOutsideTheTable_IsInvalid()
        => Assert.Equal(TcpState.Max, TcpTransitionTable.Next(CtDirection.Original, TcpState.Unack, TcpPacketKind.Ack));

    private static byte FlagsOf(TcpPacketKind kind) => kind switch
    {
        TcpPacketKind.Syn => F.Syn,
        TcpPacketKind.SynAck => F.SynAck,
        TcpPacketKind.Fin => F.FinAck,
        TcpPacketKind.Ack => F.Ack,
        TcpPacketKind.Rst => F.Rst,
        _ => 0,
    };

    private static TcpState Abbrev(string a) => a switch
    {
        "NO" => TcpState.None,
        "SS" => TcpState.SynSent,
        "SR" => TcpState.SynRecv,
        "ES" => TcpState.Established,
        "FW" => TcpState.FinWait,
        "CW" => TcpState.CloseWait,
        "LA" => TcpState.LastAck,
        "TW" => TcpState.TimeWait,
        "CL" => TcpState.Close,
        "S2" => TcpState.SynSent2,
        "IV" => TcpState.Max,
        "IG" => TcpState.Ignore,
        _ => throw new ArgumentException($"unknown abbreviation {a}"),
    };
}
