using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Packets;

namespace Firewall.Core.Tests.Helpers;

/// <summary>Frames for the helper tests, built with <see cref="FrameBuilder"/> and read back with <see cref="PacketParser"/>.</summary>
internal static class HelperTestKit
{
    public const string Client4 = FrameBuilder.A4, Server4 = FrameBuilder.B4, Other4 = FrameBuilder.C4;
    public const string Client6 = FrameBuilder.A6, Server6 = FrameBuilder.B6, Other6 = FrameBuilder.C6;
    public const ushort ClientPort = 43100;

    /// <summary>Payload text as raw bytes, one byte per char (so "\u0001" stays 0x01).</summary>
    public static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    public static IpAddr Ip(string s)
    {
        if (!IpAddr.TryParse(s, out var a, out _)) throw new ArgumentException(s);
        return a;
    }

    public static bool IsV6(string addr) => addr.Contains(':');

    public static ConnTuple Tuple(string client, ushort clientPort, string server, ushort serverPort, byte proto) => new()
    {
        Src = Ip(client),
        Dst = Ip(server),
        SrcId = clientPort,
        DstId = serverPort,
        Proto = proto,
        Family = IsV6(client) ? (byte)6 : (byte)4,
    };

    public static byte[] TcpFrame(string src, string dst, ushort sport, ushort dport, uint seq, byte[] payload)
    {
        byte[] tcp = FrameBuilder.Tcp(sport, dport, seq, ack: 1, flags: TcpFlags.Ack | TcpFlags.Psh, payload: payload);
        byte[] ip = IsV6(src) ? FrameBuilder.Ipv6(src, dst, FrameBuilder.ProtoTcp, tcp) : FrameBuilder.Ipv4(src, dst, FrameBuilder.ProtoTcp, tcp);
        return FrameBuilder.Ethernet(ip);
    }

    public static byte[] UdpFrame(string src, string dst, ushort sport, ushort dport, byte[] payload)
    {
        byte[] udp = FrameBuilder.Udp(sport, dport, payload);
        byte[] ip = IsV6(src) ? FrameBuilder.Ipv6(src, dst, FrameBuilder.ProtoUdp, udp) : FrameBuilder.Ipv4(src, dst, FrameBuilder.ProtoUdp, udp);
        return FrameBuilder.Ethernet(ip);
    }

    public static void Parse(byte[] frame, out ParsedPacket p)
    {
        var e = PacketParser.Parse(frame, LinkType.Ethernet, out p);
        if (e != ParseError.None) throw new InvalidOperationException($"test frame did not parse: {e}");
    }

    /// <summary>An IPv4 address as the number IRC DCC carries, computed here from the dotted quad.</summary>
    public static uint DccNumber(string dotted)
    {
        string[] b = dotted.Split('.');
        return (uint.Parse(b[0]) << 24) | (uint.Parse(b[1]) << 16) | (uint.Parse(b[2]) << 8) | uint.Parse(b[3]);
    }
}

/// <summary>
/// One FTP control connection seen by the helper: client:43100 → server:21, a sequence counter per direction, and the
/// helper state. <see cref="Send"/> builds the segment at the direction's current sequence number and advances it.
/// </summary>
internal sealed class FtpSession
{
    private FtpHelperState _state;
    private readonly uint[] _nextSeq = [1000, 500000];

    public FtpSession(string client = HelperTestKit.Client4, string server = HelperTestKit.Server4, bool loose = false)
    {
        Client = client;
        Server = server;
        Loose = loose;
        Tuple = HelperTestKit.Tuple(client, HelperTestKit.ClientPort, server, 21, IpProto.Tcp);
    }

    public string Client { get; }
    public string Server { get; }
    public bool Loose { get; set; }
    public ConnTuple Tuple { get; }
    public ExpectationRequest LastExpectation { get; private set; }

    public uint NextSeq(CtDirection dir) => _nextSeq[(int)dir];

    public ref FtpHelperState State => ref _state;

    /// <summary>The banner and USER: the first segment of each direction, which only seeds line tracking.</summary>
    public FtpSession Seeded()
    {
        Assert.Equal(HelperAction.None, Send(CtDirection.Reply, "220 (vsFTPd 3.0.3)\r\n"));
        Assert.Equal(HelperAction.None, Send(CtDirection.Original, "USER anonymous\r\n"));
        return this;
    }

    public HelperAction Send(CtDirection dir, string text, bool established = true) =>
        SendAt(dir, _nextSeq[(int)dir], HelperTestKit.Bytes(text), established);

    public HelperAction SendAt(CtDirection dir, uint seq, string text, bool established = true) =>
        SendAt(dir, seq, HelperTestKit.Bytes(text), established);

    /// <summary>Sends <paramref name="payload"/> at <paramref name="seq"/>; the direction's next sequence number becomes seq + length.</summary>
    public HelperAction SendAt(CtDirection dir, uint seq, byte[] payload, bool established = true)
    {
        byte[] frame = dir == CtDirection.Original
            ? HelperTestKit.TcpFrame(Client, Server, HelperTestKit.ClientPort, 21, seq, payload)
            : HelperTestKit.TcpFrame(Server, Client, 21, HelperTestKit.ClientPort, seq, payload);
        HelperTestKit.Parse(frame, out var p);
        var tuple = Tuple;
        HelperAction a = FtpHelper.Process(ref _state, ref p, dir, established, in tuple, Loose, out var exp);
        LastExpectation = exp;
        _nextSeq[(int)dir] = unchecked(seq + (uint)payload.Length);
        return a;
    }
}
