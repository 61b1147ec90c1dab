using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Helpers.HelperTestKit;

namespace Firewall.Core.Tests.Helpers;

/// <summary>The helpers run on the packet path: no allocation, measured with the per-thread allocation counter.</summary>
public class HelperAllocationTests
{
    [Fact]
    public void Ftp_AllPaths_AllocateNothing()
    {
        // Frames are built before measuring; Process is what is measured.
        var v4 = Tuple(Client4, ClientPort, Server4, 21, IpProto.Tcp);
        var v6 = Tuple(Client6, ClientPort, Server6, 21, IpProto.Tcp);
        (byte[] Frame, CtDirection Dir, bool V6)[] script =
        [
            (TcpFrame(Client4, Server4, ClientPort, 21, 1000, Bytes("USER a\r\n")), CtDirection.Original, false),
            (TcpFrame(Client4, Server4, ClientPort, 21, 1008, Bytes("PORT 198,18,0,1,200,10\r\n")), CtDirection.Original, false),
            (TcpFrame(Client4, Server4, ClientPort, 21, 1032, Bytes("PORT 198,18,0,1,")), CtDirection.Original, false),
            (TcpFrame(Client4, Server4, ClientPort, 21, 1048, Bytes("200,10\r\n")), CtDirection.Original, false),
            (TcpFrame(Client4, Server4, ClientPort, 21, 1056, Bytes("PORT 1,2\r\n")), CtDirection.Original, false),
            (TcpFrame(Server4, Client4, 21, ClientPort, 5000, Bytes("220 hi\r\n")), CtDirection.Reply, false),
            (TcpFrame(Server4, Client4, 21, ClientPort, 5008, Bytes("227 Entering Passive Mode (198,18,0,2,156,64).\r\n")), CtDirection.Reply, false),
            (TcpFrame(Client6, Server6, ClientPort, 21, 1000, Bytes("USER a\r\n")), CtDirection.Original, true),
            (TcpFrame(Client6, Server6, ClientPort, 21, 1008, Bytes("EPRT |2|2001:db8::0.0.0.1|6275|\r\n")), CtDirection.Original, true),
            (TcpFrame(Server6, Client6, 21, ClientPort, 5000, Bytes("220 hi\r\n")), CtDirection.Reply, true),
            (TcpFrame(Server6, Client6, 21, ClientPort, 5008, Bytes("229 Entering Extended Passive Mode (|||40001|)\r\n")), CtDirection.Reply, true),
        ];
        int expects = 0;
        long allocated = 0;
        for (int round = 0; round < 3; round++) // round 0 warms up (JIT, statics)
        {
            var st4 = new FtpHelperState();
            var st6 = new FtpHelperState();
            long before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var (frame, dir, isV6) in script)
            {
                PacketParser.Parse(frame, LinkType.Ethernet, out var p);
                HelperAction a = isV6
                    ? FtpHelper.Process(ref st6, ref p, dir, true, in v6, false, out _)
                    : FtpHelper.Process(ref st4, ref p, dir, true, in v4, false, out _);
                if (a == HelperAction.Expect) expects++;
            }
            if (round > 0) allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.Equal(3 * 5, expects); // PORT, split PORT, 227, EPRT, 229 in each round
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Irc_AllocatesNothing()
    {
        var tuple = Tuple(Client4, ClientPort, Server4, 6667, IpProto.Tcp);
        byte[] frame = TcpFrame(Client4, Server4, ClientPort, 6667, 1,
            Bytes($"PRIVMSG bob :\u0001DCC SEND f {DccNumber(Client4)} 5000 10\u0001\r\n"));
        Assert.Equal(0, Measure(() =>
        {
            PacketParser.Parse(frame, LinkType.Ethernet, out var p);
            var st = new IrcHelperState();
            return IrcHelper.Process(ref st, ref p, CtDirection.Original, true, in tuple, false, out _);
        }));
    }

    [Fact]
    public void Tftp_AllocatesNothing()
    {
        var tuple = Tuple(Client4, ClientPort, Server4, 69, IpProto.Udp);
        byte[] frame = UdpFrame(Client4, Server4, ClientPort, 69, [0, 1, (byte)'f', 0, (byte)'o', 0]);
        Assert.Equal(0, Measure(() =>
        {
            PacketParser.Parse(frame, LinkType.Ethernet, out var p);
            var st = new TftpHelperState();
            return TftpHelper.Process(ref st, ref p, CtDirection.Original, false, in tuple, false, out _);
        }));
    }

    /// <summary>Bytes allocated by 100 calls after a warm-up call that must return Expect.</summary>
    private static long Measure(Func<HelperAction> call)
    {
        Assert.Equal(HelperAction.Expect, call());
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
