using FsCheck;
using FsCheck.Fluent;
using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Helpers.HelperTestKit;

namespace Firewall.Core.Tests.Helpers;

/// <summary>Random and hostile payloads: the helpers never throw and never expect toward anyone but the sender when not loose.</summary>
public class HelperPropertyTests
{
    private static readonly Config Cfg = Config.QuickThrowOnFailure.WithMaxTest(1500);

    private static readonly string[] FtpPieces =
    [
        "PORT ", "port ", "EPRT ", "227 ", "229 ", "(", ")", "|", "|1|", "|2|", "!", ",", ".", ":", "::", "\r", "\n", "\r\n", " ",
        "198", "18", "0", "1", "2", "3", "255", "256", "65535", "65536", "2001:db8::", "PO", "RT", "Entering Passive Mode ",
    ];

    private static Gen<byte[]> Payload(string[] pieces) =>
        Gen.Frequency(
            (1, Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i))),
            (3, Gen.ListOf(Gen.Elements(pieces)).Select(l => Bytes(string.Concat(l)))));

    /// <summary>One FTP segment: direction, payload, and where it starts (0 = the direction's next byte, 1 = a gap, 2 = a resend of the last start).</summary>
    private sealed record Segment(CtDirection Dir, byte[] Payload, int Placement, bool Established);

    private static Gen<Segment> SegmentGen =>
        from dir in Gen.Elements(CtDirection.Original, CtDirection.Reply)
        from payload in Payload(FtpPieces)
        from placement in Gen.Frequency((8, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
        from established in Gen.Frequency((9, Gen.Constant(true)), (1, Gen.Constant(false)))
        select new Segment(dir, payload, placement, established);

    [Fact]
    public void Ftp_RandomSegments_NeverThrow_AndExpectOnlyTowardTheSender()
    {
        var gen = from v6 in Gen.Elements(false, true)
                  from segments in Gen.ListOf(SegmentGen)
                  select (v6, segments.ToArray());
        Check.One(Cfg, Prop.ForAll(gen.ToArbitrary(), t => FtpHolds(t.v6, t.Item2)));
    }

    private static bool FtpHolds(bool v6, Segment[] segments)
    {
        var s = v6 ? new FtpSession(Client6, Server6).Seeded() : new FtpSession().Seeded();
        uint[] lastStart = [s.NextSeq(CtDirection.Original), s.NextSeq(CtDirection.Reply)];
        foreach (var seg in segments)
        {
            if (seg.Payload.Length == 0) continue; // the parser needs a payload to build a TCP frame worth sending
            uint seq = seg.Placement switch
            {
                0 => s.NextSeq(seg.Dir),
                1 => s.NextSeq(seg.Dir) + 7,
                _ => lastStart[(int)seg.Dir],
            };
            lastStart[(int)seg.Dir] = seq;
            HelperAction a = s.SendAt(seg.Dir, seq, seg.Payload, seg.Established);
            if (a == HelperAction.Expect)
            {
                ExpectationRequest e = s.LastExpectation;
                string sender = seg.Dir == CtDirection.Original ? s.Client : s.Server;
                string peer = seg.Dir == CtDirection.Original ? s.Server : s.Client;
                if (e.Dst != Ip(sender) || e.Src != Ip(peer) || e.SrcAddrAny || !e.SrcPortAny || e.Proto != IpProto.Tcp
                    || e.Family != (v6 ? 6 : 4))
                    throw new Exception($"bad expectation {e} for {seg.Dir} payload '{System.Text.Encoding.Latin1.GetString(seg.Payload)}'");
            }
        }
        return true;
    }

    private static readonly string[] IrcPieces =
    [
        "PRIVMSG ", "privmsg ", "bob", " ", " :", ":", "\u0001", "DCC ", "\u0001DCC ", "SEND ", "CHAT ", "MOVE ", "TSEND ", "SCHAT ",
        "RESUME ", "f ", "chat ", "3323068417", "3323068418", "7618035713", "5000", "0", "\r\n", "\n", "\r",
    ];

    [Fact]
    public void Irc_RandomPayloads_NeverThrow_AndExpectOnlyTheClient()
    {
        var gen = from payload in Payload(IrcPieces)
                  from dir in Gen.Elements(CtDirection.Original, CtDirection.Reply)
                  select (payload, dir);
        Check.One(Cfg, Prop.ForAll(gen.ToArbitrary(), t => IrcHolds(t.payload, t.dir)));
    }

    private static bool IrcHolds(byte[] payload, CtDirection dir)
    {
        if (payload.Length == 0) return true;
        Parse(TcpFrame(Client4, Server4, ClientPort, 6667, 1, payload), out var p);
        var tuple = Tuple(Client4, ClientPort, Server4, 6667, IpProto.Tcp);
        var st = new IrcHelperState();
        HelperAction a = IrcHelper.Process(ref st, ref p, dir, true, in tuple, false, out var e);
        if (a == HelperAction.Drop) throw new Exception("IRC never drops without an insertion failure");
        if (a == HelperAction.Expect && (dir != CtDirection.Original || e.Dst != Ip(Client4) || e.DstPort == 0 || !e.SrcAddrAny))
            throw new Exception($"bad expectation {e}");
        return true;
    }

    [Fact]
    public void Tftp_RandomPayloads_NeverThrow_AndExpectOnlyOnRequests()
    {
        var gen = Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (byte)i));
        Check.One(Cfg, Prop.ForAll(gen.ToArbitrary(), payload =>
        {
            Parse(UdpFrame(Client4, Server4, ClientPort, 69, payload), out var p);
            var tuple = Tuple(Client4, ClientPort, Server4, 69, IpProto.Udp);
            var st = new TftpHelperState();
            HelperAction a = TftpHelper.Process(ref st, ref p, CtDirection.Original, false, in tuple, false, out _);
            bool request = payload.Length >= 2 && payload[0] == 0 && payload[1] is 1 or 2;
            return a == (request ? HelperAction.Expect : HelperAction.None);
        }));
    }
}
