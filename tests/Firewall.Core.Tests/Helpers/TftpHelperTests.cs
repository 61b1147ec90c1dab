using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Helpers.HelperTestKit;

namespace Firewall.Core.Tests.Helpers;

/// <summary>TFTP (reference 8.5, rows 42–43). Client :43100 → server :69.</summary>
public class TftpHelperTests
{
    private static byte[] Request(ushort opcode, string file = "boot.img") =>
        [(byte)(opcode >> 8), (byte)opcode, .. Bytes(file), 0, .. Bytes("octet"), 0];

    private static HelperAction Send(byte[] payload, out ExpectationRequest exp, CtDirection dir = CtDirection.Original,
                                     string client = Client4, string server = Server4, bool established = false)
    {
        byte[] frame = dir == CtDirection.Original
            ? UdpFrame(client, server, ClientPort, 69, payload)
            : UdpFrame(server, client, 69, ClientPort, payload);
        Parse(frame, out var p);
        var tuple = Tuple(client, ClientPort, server, 69, IpProto.Udp);
        var st = new TftpHelperState();
        return TftpHelper.Process(ref st, ref p, dir, established, in tuple, false, out exp);
    }

    private static void AssertExpectsServerAnyToClientPort(in ExpectationRequest e, string client, string server)
    {
        Assert.Equal(IpProto.Udp, e.Proto);
        Assert.Equal(IsV6(client) ? 6 : 4, e.Family);
        Assert.False(e.SrcAddrAny);
        Assert.Equal(Ip(server), e.Src);
        Assert.True(e.SrcPortAny);
        Assert.Equal(Ip(client), e.Dst);
        Assert.Equal(ClientPort, e.DstPort);
    }

    [Fact]
    public void ReadRequest_OnTheNewPacket_ExpectsServerAnyPortToClientPort()
    {
        Assert.Equal(HelperAction.Expect, Send(Request(1), out var e));
        AssertExpectsServerAnyToClientPort(e, Client4, Server4);
    }

    [Fact]
    public void WriteRequest_V6_ExpectsServerAnyPortToClientPort()
    {
        Assert.Equal(HelperAction.Expect, Send(Request(2), out var e, client: Client6, server: Server6));
        AssertExpectsServerAnyToClientPort(e, Client6, Server6);
    }

    [Fact]
    public void RequestOnEstablishedPacket_AlsoExpects()
    {
        Assert.Equal(HelperAction.Expect, Send(Request(1), out _, established: true));
    }

    [Fact]
    public void RequestFromServerSide_ExpectsTheSameReplyTuple()
    {
        Assert.Equal(HelperAction.Expect, Send(Request(1), out var e, CtDirection.Reply));
        AssertExpectsServerAnyToClientPort(e, Client4, Server4);
    }

    [Theory]
    [InlineData(3)] // DATA
    [InlineData(4)] // ACK
    [InlineData(5)] // ERROR
    [InlineData(6)] // OACK
    [InlineData(0)]
    [InlineData(0x0101)]
    public void OtherOpcodes_CreateNothing(int opcode)
    {
        Assert.Equal(HelperAction.None, Send(Request((ushort)opcode), out var e));
        Assert.Equal(default, e);
    }

    [Fact]
    public void OneBytePayload_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send([1], out _));
    }

    [Fact]
    public void EmptyPayload_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send([], out _));
    }
}
