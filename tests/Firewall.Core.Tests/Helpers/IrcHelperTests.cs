using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Helpers.HelperTestKit;

namespace Firewall.Core.Tests.Helpers;

/// <summary>IRC DCC (reference 8.4, rows 40–41). Client 198.18.0.1:43100 → IRC server 198.18.0.2:6667.</summary>
public class IrcHelperTests
{
    private static readonly uint ClientNumber = DccNumber(Client4); // 3323068417

    private static HelperAction Send(string text, out ExpectationRequest exp, CtDirection dir = CtDirection.Original,
                                     bool established = true, string client = Client4, string server = Server4)
    {
        byte[] payload = Bytes(text);
        byte[] frame = dir == CtDirection.Original
            ? TcpFrame(client, server, ClientPort, 6667, 1000, payload)
            : TcpFrame(server, client, 6667, ClientPort, 1000, payload);
        Parse(frame, out var p);
        var tuple = Tuple(client, ClientPort, server, 6667, IpProto.Tcp);
        var st = new IrcHelperState();
        return IrcHelper.Process(ref st, ref p, dir, established, in tuple, false, out exp);
    }

    private static void AssertExpectsAnyToClient(in ExpectationRequest e, ushort port)
    {
        Assert.Equal(IpProto.Tcp, e.Proto);
        Assert.Equal(4, e.Family);
        Assert.True(e.SrcAddrAny);
        Assert.True(e.SrcPortAny);
        Assert.Equal(Ip(Client4), e.Dst);
        Assert.Equal(port, e.DstPort);
    }

    [Fact]
    public void DccSend_ExpectsAnyToClientPort()
    {
        Assert.Equal(HelperAction.Expect, Send($"PRIVMSG bob :\u0001DCC SEND report.pdf {ClientNumber} 5000 1234\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 5000);
    }

    [Fact]
    public void DccChat_ExpectsAnyToClientPort()
    {
        Assert.Equal(HelperAction.Expect, Send($"PRIVMSG bob :\u0001DCC CHAT chat {ClientNumber} 5001\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 5001);
    }

    [Theory]
    [InlineData("MOVE")]
    [InlineData("TSEND")]
    [InlineData("SCHAT")]
    public void OtherDccWords_Expect(string word)
    {
        Assert.Equal(HelperAction.Expect, Send($"PRIVMSG bob :\u0001DCC {word} token {ClientNumber} 5002\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 5002);
    }

    [Fact]
    public void LeadingBlankLinesAndLowercasePrivmsg_Expect()
    {
        Assert.Equal(HelperAction.Expect, Send($"\r\n  privmsg bob :\u0001DCC SEND f {ClientNumber} 5003\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 5003);
    }

    [Fact]
    public void Resume_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send("PRIVMSG bob :\u0001DCC RESUME report.pdf 5000 1024\u0001\r\n", out var e));
        Assert.Equal(default, e);
    }

    [Fact]
    public void Accept_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send("PRIVMSG bob :\u0001DCC ACCEPT report.pdf 5000 1024\u0001\r\n", out _));
    }

    [Fact]
    public void ForgedAddress_CreatesNothing()
    {
        uint other = DccNumber(Other4);
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :\u0001DCC SEND f {other} 5000\u0001\r\n", out _));
    }

    [Fact]
    public void ZeroPort_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :\u0001DCC SEND f {ClientNumber} 0\u0001\r\n", out _));
    }

    [Fact]
    public void ServerToClient_IsNotExamined()
    {
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :\u0001DCC SEND f {ClientNumber} 5000\u0001\r\n", out _, CtDirection.Reply));
    }

    [Fact]
    public void NotEstablished_IsNotExamined()
    {
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :\u0001DCC SEND f {ClientNumber} 5000\u0001\r\n", out _, established: false));
    }

    [Fact]
    public void NotPrivmsg_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send($"NOTICE bob :\u0001DCC SEND f {ClientNumber} 5000\u0001\r\n", out _));
    }

    [Fact]
    public void NoNewline_CreatesNothing()
    {
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :\u0001DCC SEND f {ClientNumber} 5000 1234\u0001", out _));
    }

    [Fact]
    public void DccWordsAreCaseSensitive()
    {
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :\u0001dcc send f {ClientNumber} 5000\u0001\r\n", out _));
    }

    [Fact]
    public void FirstMessageStartNotDcc_StopsTheSearch()
    {
        Assert.Equal(HelperAction.None, Send($"PRIVMSG bob :hello :\u0001DCC SEND f {ClientNumber} 5000\u0001\r\n", out _));
    }

    [Fact]
    public void ForgedFirstCommand_SearchContinuesToALaterOne()
    {
        // The kernel does not stop after a DCC command that fails its checks; it resumes looking for " :".
        uint other = DccNumber(Other4);
        Assert.Equal(HelperAction.Expect,
            Send($"PRIVMSG bob :\u0001DCC SEND f {other} 5000\u0001 :\u0001DCC SEND g {ClientNumber} 5004\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 5004);
    }

    [Fact]
    public void NumbersWrapLikeSimpleStrtoul()
    {
        ulong address = ClientNumber + (1UL << 32); // low 32 bits are the client's
        Assert.Equal(HelperAction.Expect, Send($"PRIVMSG bob :\u0001DCC SEND f {address} 70536\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 70536 - 65536);
    }

    [Fact]
    public void CommandWithinFirst4095Bytes_Expects()
    {
        string nick = new('a', 3900);
        Assert.Equal(HelperAction.Expect, Send($"PRIVMSG {nick} :\u0001DCC SEND f {ClientNumber} 5005\u0001\r\n", out var e));
        AssertExpectsAnyToClient(e, 5005);
    }

    [Fact]
    public void CommandBeyond4095Bytes_IsNotSeen()
    {
        string nick = new('a', 4100);
        Assert.Equal(HelperAction.None, Send($"PRIVMSG {nick} :\u0001DCC SEND f {ClientNumber} 5005\u0001\r\n", out _));
    }

    [Fact]
    public void Ipv6Connection_IsNotExamined()
    {
        Assert.Equal(HelperAction.None,
            Send($"PRIVMSG bob :\u0001DCC SEND f {ClientNumber} 5000\u0001\r\n", out _, client: Client6, server: Server6));
    }
}
