using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Helpers.HelperTestKit;

namespace Firewall.Core.Tests.Helpers;

/// <summary>FTP commands and replies after the control connection is seeded (banner and USER seen): reference 8.3, rows 35–39.</summary>
public class FtpCommandTests
{
    private static FtpSession V4(bool loose = false) => new FtpSession(loose: loose).Seeded();
    private static FtpSession V6(bool loose = false) => new FtpSession(Client6, Server6, loose).Seeded();

    private static void AssertExpects(FtpSession s, string src, string dst, ushort dport)
    {
        ExpectationRequest e = s.LastExpectation;
        Assert.Equal(IpProto.Tcp, e.Proto);
        Assert.Equal(s.Tuple.Family, e.Family);
        Assert.False(e.SrcAddrAny);
        Assert.Equal(Ip(src), e.Src);
        Assert.True(e.SrcPortAny);
        Assert.Equal(Ip(dst), e.Dst);
        Assert.Equal(dport, e.DstPort);
    }

    // ---- active mode: the client announces

    [Fact]
    public void Port_ExpectsServerAnyPortToClientPort()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,1,200,10\r\n"));
        AssertExpects(s, Server4, Client4, 200 * 256 + 10);
    }

    [Fact]
    public void Port_KeywordIsCaseInsensitive()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "port 198,18,0,1,4,1\r\n"));
        AssertExpects(s, Server4, Client4, 1025);
    }

    [Fact]
    public void Eprt_V4_ExpectsServerAnyPortToClientPort()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "EPRT |1|198.18.0.1|51210|\r\n"));
        AssertExpects(s, Server4, Client4, 51210);
    }

    [Fact]
    public void Eprt_V6_ExpectsServerAnyPortToClientPort()
    {
        var s = V6();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "EPRT |2|2001:db8::1|6275|\r\n"));
        AssertExpects(s, Server6, Client6, 6275);
    }

    [Fact]
    public void Eprt_V6_AnyPrintableNonDigitDelimiter()
    {
        var s = V6();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "EPRT !2!2001:DB8:0:0:0:0:0:1!40000!\r\n"));
        AssertExpects(s, Server6, Client6, 40000);
    }

    [Fact]
    public void Eprt_V6_EmbeddedDottedQuadTail()
    {
        var s = V6();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "EPRT |2|2001:db8::0.0.0.1|40001|\r\n"));
        AssertExpects(s, Server6, Client6, 40001);
    }

    // ---- passive mode: the server announces

    [Fact]
    public void Pasv227_WithParentheses_ExpectsClientAnyPortToServerPort()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "227 Entering Passive Mode (198,18,0,2,156,64).\r\n"));
        AssertExpects(s, Client4, Server4, 156 * 256 + 64);
    }

    [Fact]
    public void Pasv227_WithoutParentheses_ScansToFirstDigit()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "227 Entering Passive Mode 198,18,0,2,39,16\r\n"));
        AssertExpects(s, Client4, Server4, 39 * 256 + 16);
    }

    [Fact]
    public void Epsv229_ExpectsClientAnyPortToServerPort_V4()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "229 Entering Extended Passive Mode (|||40001|)\r\n"));
        AssertExpects(s, Client4, Server4, 40001);
    }

    [Fact]
    public void Epsv229_ExpectsClientAnyPortToServerPort_V6()
    {
        var s = V6();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "229 Entering Extended Passive Mode (!!!40002!)\r\n"));
        AssertExpects(s, Client6, Server6, 40002);
    }

    // ---- direction: each side's patterns only

    [Fact]
    public void PortFromServer_IsNotACommand()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, "PORT 198,18,0,2,200,10\r\n"));
    }

    [Fact]
    public void Reply227FromClient_IsNotAReply()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "227 Entering Passive Mode (198,18,0,1,156,64).\r\n"));
    }

    [Fact]
    public void OtherCommands_AreAccepted()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "RETR file.txt\r\n"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, "150 Opening BINARY mode data connection.\r\n"));
    }

    [Fact]
    public void NotEstablished_IsNotParsed()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,200,10\r\n", established: false));
    }

    // ---- partial matches: dropped, as the kernel does (row 38)

    [Theory]
    [InlineData("PORT 198,18,0,1\r\n")]          // four numbers only
    [InlineData("PORT\r\n")]                      // no space before the end
    [InlineData("PORT 198,18,0,1,200,10\n")]      // '\r' must follow p2
    [InlineData("PORT 198,18,0,1,200,10,7\r\n")]  // a seventh number
    [InlineData("PORT 198;18;0;1;200;10\r\n")]
    [InlineData("EPRT |1|198.18.0.1|0|\r\n")]     // zero port
    [InlineData("EPRT |1|198.18.0.1|51210\r\n")]  // no closing delimiter
    [InlineData("EPRT 1|1|198.18.0.1|51210|\r\n")]// digit delimiter
    [InlineData("EPRT |2|2001:db8::1|51210|\r\n")]// family differs from the control connection
    [InlineData("EPRT |1|198.18.0|51210|\r\n")]
    [InlineData("EPRT |3|198.18.0.1|51210|\r\n")]
    public void MalformedClientCommand_IsDropped(string line)
    {
        var s = V4();
        Assert.Equal(HelperAction.Drop, s.Send(CtDirection.Original, line));
    }

    [Theory]
    [InlineData("227 Entering Passive Mode\r\n")]                          // no digit at all
    [InlineData("227 Entering Passive Mode (198,18,0,2,156)\r\n")]
    [InlineData("229 Entering Extended Passive Mode |||40001|\r\n")]      // no '('
    [InlineData("229 Entering Extended Passive Mode (|!|40001|)\r\n")]    // delimiters differ
    [InlineData("229 Entering Extended Passive Mode (|||0|)\r\n")]        // zero port
    [InlineData("229 Entering Extended Passive Mode (111401|)\r\n")]      // digit delimiter
    public void MalformedServerReply_IsDropped(string line)
    {
        var s = V4();
        Assert.Equal(HelperAction.Drop, s.Send(CtDirection.Reply, line));
    }

    [Theory]
    [InlineData("EPRT |1|198.18.0.1|51210|\r\n")]
    [InlineData("EPRT |2|2001:db8:::1|51210|\r\n")]
    [InlineData("EPRT |2|2001:db8::1::2|51210|\r\n")]
    [InlineData("EPRT |2|2001:db8::1|0|\r\n")]
    [InlineData("EPRT |2|2001:db8::256.0.0.1|51210|\r\n")]
    public void MalformedEprtOnV6_IsDropped(string line)
    {
        var s = V6();
        Assert.Equal(HelperAction.Drop, s.Send(CtDirection.Original, line));
    }

    // ---- numbers without range checks

    [Fact]
    public void Port_OversizedAddressNumberCarriesIntoNeighbour()
    {
        // 257 = 0x101: the fourth number ORs 0x01 into the third byte, so the address is 198.18.1.1.
        var s = V4(loose: true);
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,257,200,10\r\n"));
        AssertExpects(s, Server4, "198.18.1.1", 51210);
    }

    [Fact]
    public void Port_OversizedAddressNumber_IsNotTheSender_NoExpectation()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,257,200,10\r\n"));
    }

    [Fact]
    public void Port_OversizedPortNumberIsTruncatedTo16Bits()
    {
        // (256 << 8 | 1) & 0xffff = 1
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,1,256,1\r\n"));
        AssertExpects(s, Server4, Client4, 1);
    }

    [Fact]
    public void Eprt_PortWrapsIn16Bits()
    {
        // 65537 accumulated in 16 bits is 1
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "EPRT |1|198.18.0.1|65537|\r\n"));
        AssertExpects(s, Server4, Client4, 1);
    }

    [Fact]
    public void Port_ZeroPortIsAccepted()
    {
        var s = V4();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,1,0,0\r\n"));
        AssertExpects(s, Server4, Client4, 0);
    }

    [Fact]
    public void PortOnV6Connection_ReplacesTopFourBytesOfSenderAddress()
    {
        // The kernel writes the four numbers over the first four bytes of the sender's address: 32,1,13,184 = 2001:0db8.
        var s = V6();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 32,1,13,184,4,1\r\n"));
        AssertExpects(s, Server6, Client6, 1025);
    }

    // ---- FTP bounce: the announced address must be the sender's (row 39)

    [Fact]
    public void Port_ForeignAddress_NoExpectation()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,3,200,10\r\n"));
    }

    [Fact]
    public void Port_ForeignAddress_Loose_ExpectsToAnnouncedAddress()
    {
        var s = V4(loose: true);
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,3,200,10\r\n"));
        AssertExpects(s, Server4, Other4, 51210);
    }

    [Fact]
    public void Pasv227_ForeignAddress_NoExpectation()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, "227 Entering Passive Mode (198,18,0,3,156,64).\r\n"));
    }

    [Fact]
    public void Pasv227_ForeignAddress_Loose_ExpectsToAnnouncedAddress()
    {
        var s = V4(loose: true);
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "227 Entering Passive Mode (198,18,0,3,156,64).\r\n"));
        AssertExpects(s, Client4, Other4, 40000);
    }

    [Fact]
    public void EprtV6_ForeignAddress_NoExpectation()
    {
        var s = V6();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "EPRT |2|2001:db8::3|6275|\r\n"));
    }

    [Fact]
    public void ForeignAddress_StillAdvancesLineTracking()
    {
        var s = V4();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,3,200,10\r\n"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,1,200,11\r\n"));
    }
}
