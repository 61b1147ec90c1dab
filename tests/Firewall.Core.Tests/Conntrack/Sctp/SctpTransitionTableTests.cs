using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>
/// Every cell of the kernel's sctp_conntracks table (net/netfilter/nf_conntrack_proto_sctp.c, 6.18), typed here from
/// the kernel source: 11 chunk kinds × 9 states × 2 directions. Each reachable cell is driven through the parser and
/// the worker: an entry is built in the state with real packets, then one packet carrying the chunk (with the tag
/// the verification rules expect) is sent; IV must make it INVALID and leave the state, any other cell must be
/// accepted into that state. The NONE column is the packet that creates an entry (OOTB rules for ABORT, COOKIE ACK and
/// SHUTDOWN COMPLETE make those INVALID before the table is read; see SctpNewEntryTests).
/// </summary>
public class SctpTransitionTableTests
{
    //                                        NO  CL  CW  CE  ES  SS  SR  SA  HS
    private static readonly string[] KernelOriginal =
    [
        /* init          */ "CL CL CW CE ES CL CL SA CW",
        /* init_ack      */ "CL CL CW CE ES SS SR SA CL",
        /* abort         */ "CL CL CL CL CL CL CL CL CL",
        /* shutdown      */ "CL CL CW CE SS SS SR SA CL",
        /* shutdown_ack  */ "SA CL CW CE ES SA SA SA SA",
        /* error         */ "CL CL CW CE ES SS SR SA CL",
        /* cookie_echo   */ "CL CL CE CE ES SS SR SA CL",
        /* cookie_ack    */ "CL CL CW ES ES SS SR SA CL",
        /* shutdown_comp */ "CL CL CW CE ES SS SR CL CL",
        /* heartbeat     */ "HS CL CW CE ES SS SR SA HS",
        /* heartbeat_ack */ "CL CL CW CE ES SS SR SA HS",
    ];

    private static readonly string[] KernelReply =
    [
        /* init          */ "IV CL CW CE ES SS SR SA IV",
        /* init_ack      */ "IV CW CW CE ES SS SR SA IV",
        /* abort         */ "IV CL CL CL CL CL CL CL IV",
        /* shutdown      */ "IV CL CW CE SR SS SR SA IV",
        /* shutdown_ack  */ "IV CL CW CE ES SA SA SA IV",
        /* error         */ "IV CL CW CL ES SS SR SA IV",
        /* cookie_echo   */ "IV CL CE CE ES SS SR SA IV",
        /* cookie_ack    */ "IV CL CW ES ES SS SR SA IV",
        /* shutdown_comp */ "IV CL CW CE ES SS SR CL IV",
        /* heartbeat     */ "IV CL CW CE ES SS SR SA HS",
        /* heartbeat_ack */ "IV CL CW CE ES SS SR SA ES",
    ];

    private static readonly byte[] Rows = [Init, InitAck, Abort, Shutdown, ShutdownAck, Error, CookieEcho, CookieAck, ShutdownComplete, Heartbeat, HeartbeatAck];

    private static SctpState Parse(string s) => s switch
    {
        "NO" => SctpState.None, "CL" => SctpState.Closed, "CW" => SctpState.CookieWait, "CE" => SctpState.CookieEchoed,
        "ES" => SctpState.Established, "SS" => SctpState.ShutdownSent, "SR" => SctpState.ShutdownRecd,
        "SA" => SctpState.ShutdownAckSent, "HS" => SctpState.HeartbeatSent, "IV" => SctpState.Max,
        _ => throw new ArgumentException(s),
    };

    private static SctpState Expected(CtDirection dir, SctpState state, byte chunk)
    {
        int row = Array.IndexOf(Rows, chunk);
        return Parse((dir == CtDirection.Original ? KernelOriginal : KernelReply)[row].Split(' ')[(int)state]);
    }

    public static TheoryData<CtDirection, SctpState, byte> Cells()
    {
        var d = new TheoryData<CtDirection, SctpState, byte>();
        foreach (var dir in new[] { CtDirection.Original, CtDirection.Reply })
            for (var st = SctpState.None; st <= SctpState.HeartbeatSent; st++)
                foreach (var c in Rows) d.Add(dir, st, c);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void Cell_MatchesKernelTable(CtDirection dir, SctpState state, byte chunk)
    {
        var expected = Expected(dir, state, chunk);
        Assert.Equal(expected, SctpTransitionTable.Next(dir, state, chunk));
        if (state == SctpState.None)
        {
            if (dir == CtDirection.Original) NewEntryCell(chunk, expected);
            return; // a reply cannot exist without an entry: the NONE reply column is only reachable in the table
        }

        var k = new SctpKit().Reach(state);
        uint vtag = chunk == Init ? 0 : SctpKit.OwnTag(state, dir);
        // INIT ACK: offer the tag already known for the other side, so the collision rules do not decide
        uint initTag = chunk == InitAck ? KnownPeerTag(state, dir) : 0x5555;
        var r = k.To(dir, vtag, AnyChunk(chunk, initTag));
        if (expected == SctpState.Max)
        {
            Assert.Equal(CtState.Invalid, r.State);
            Assert.Equal(InvalidReason.SctpInvalidChunks, r.Reason);
            Assert.Equal(state, k.State);
        }
        else
        {
            Assert.NotEqual(CtState.Invalid, r.State);
            Assert.Equal(expected, k.State);
            Assert.Equal((byte)expected, r.ProtoState);
        }
    }

    private static void NewEntryCell(byte chunk, SctpState expected)
    {
        var k = new SctpKit();
        var r = k.Orig(chunk == Heartbeat ? SctpKit.TH : 0, AnyChunk(chunk, 0x5555));
        if (chunk is Abort or CookieAck or ShutdownComplete)
        {
            Assert.Equal(CtState.Invalid, r.State);
            Assert.True(k.Empty);
            return;
        }
        Assert.Equal(CtState.New, r.State);
        Assert.Equal(expected, k.State);
    }

    private static uint KnownPeerTag(SctpState state, CtDirection dir)
    {
        uint t = SctpKit.OwnTag(state, dir == CtDirection.Original ? CtDirection.Reply : CtDirection.Original);
        return t != 0 ? t : 0x5555;
    }

    [Fact]
    public void ChunksWithoutRow_KeepTheState()
    {
        foreach (byte type in new byte[] { Data, Sack, 12, 13, 15, 0x40, 0x80, 0xC1 })
            for (var st = SctpState.None; st <= SctpState.HeartbeatSent; st++)
            {
                Assert.Equal(st, SctpTransitionTable.Next(CtDirection.Original, st, type));
                Assert.Equal(st, SctpTransitionTable.Next(CtDirection.Reply, st, type));
            }
    }
}
