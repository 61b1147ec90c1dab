using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;
using Firewall.Core.Packets;
using static Firewall.Core.Tests.Helpers.HelperTestKit;

namespace Firewall.Core.Tests.Helpers;

/// <summary>Our extension: a command line split over sequence-contiguous segments (see FtpHelper's doc comment).</summary>
public class FtpSplitLineTests
{
    private static FtpSession Seeded() => new FtpSession().Seeded();

    [Fact]
    public void PortSplitInTwo_ExpectsOnTheCompletingSegment()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "200,10\r\n"));
        Assert.Equal(Ip(Client4), s.LastExpectation.Dst);
        Assert.Equal(51210, s.LastExpectation.DstPort);
    }

    [Fact]
    public void KeywordSplitOverThreeSegments_Expects()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PO"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "RT 198,18,0,1,200,10"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "\r\n"));
        Assert.Equal(51210, s.LastExpectation.DstPort);
    }

    [Fact]
    public void Pasv227Split_Expects()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, "227 "));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "Entering Passive Mode (198,18,0,2,156,64).\r\n"));
        Assert.Equal(Ip(Server4), s.LastExpectation.Dst);
        Assert.Equal(40000, s.LastExpectation.DstPort);
    }

    [Fact]
    public void EprtV6Split_Expects()
    {
        var s = new FtpSession(Client6, Server6).Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "EPRT |2|2001:db8:"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, ":1|6275|\r\n"));
        Assert.Equal(Ip(Client6), s.LastExpectation.Dst);
    }

    [Fact]
    public void ContinuationWithFollowingLines_ParsesTheJoinedLineAndTracksTheSegmentEnd()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "200,10\r\nNOOP\r\n"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,1,200,11\r\n"));
    }

    [Fact]
    public void NonContiguousContinuation_IsIgnored()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,"));
        uint off = s.NextSeq(CtDirection.Original) + 1;
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, off, "200,10\r\n"));
    }

    [Fact]
    public void SplitLineMalformedWhenComplete_DropsTheContinuation_AndItsRetransmission()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,"));
        uint cont = s.NextSeq(CtDirection.Original);
        Assert.Equal(HelperAction.Drop, s.Send(CtDirection.Original, "x\r\n"));
        Assert.Equal(HelperAction.Drop, s.SendAt(CtDirection.Original, cont, "x\r\n"));
    }

    [Fact]
    public void SplitLineWithForeignAddress_NoExpectation()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "3,200,10\r\n"));
    }

    [Fact]
    public void SplitLineThatIsNoCommand_IsAcceptedAndTracked()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "P"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "ASV\r\n"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "PORT 198,18,0,1,200,10\r\n"));
    }

    [Fact]
    public void HeadLongerThanBuffer_IsAbandoned_NotDropped()
    {
        // The kernel skips to the first space after the keyword, so "PORTXXX… 198,…" would parse if joined.
        var s = Seeded();
        string head = "PORT" + new string('X', FtpHelper.PendingLineCapacity) + " 198,18,0,";
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, head));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "1,200,10\r\n"));
    }

    [Fact]
    public void LineOutgrowingBuffer_IsAbandoned_NotDropped()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT "));
        for (int i = 0; i < 10; i++)
            Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "0000000000"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "198,18,0,1,200,10\r\n"));
    }

    [Fact]
    public void LineExactlyFillingBuffer_IsStillParsed()
    {
        const string tail = " 198,18,0,1,200,10\r\n";
        string line = "PORT" + new string('X', FtpHelper.PendingLineCapacity - 4 - tail.Length) + tail;
        Assert.Equal(FtpHelper.PendingLineCapacity, line.Length);
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, line[..80]));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, line[80..]));
    }

    [Fact]
    public void LineOneByteOverBuffer_IsAbandoned()
    {
        const string tail = " 198,18,0,1,200,10\r\n";
        string line = "PORT" + new string('X', FtpHelper.PendingLineCapacity + 1 - 4 - tail.Length) + tail;
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, line[..80]));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, line[80..]));
    }

    [Fact]
    public void RetransmittedHead_RestartsTheLine()
    {
        var s = Seeded();
        uint start = s.NextSeq(CtDirection.Original);
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,"));
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, start, "PORT 198,18,0,1,201"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, ",10\r\n"));
        Assert.Equal(201 * 256 + 10, s.LastExpectation.DstPort);
    }

    [Fact]
    public void HeadWithCompleteMalformedLine_IsDroppedAsTheKernelDoes()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.Drop, s.Send(CtDirection.Original, "PORT 198,18\r\nPORT 198,18,0,1,"));
    }

    [Fact]
    public void Directions_KeepSeparateBuffers()
    {
        var s = Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "PORT 198,18,0,1,"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, "227 Entering Passive Mode (198,18,"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, "200,10\r\n"));
        Assert.Equal(Ip(Server4), s.LastExpectation.Src);
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, "0,2,156,64).\r\n"));
        Assert.Equal(Ip(Client4), s.LastExpectation.Src);
        Assert.Equal(IpProto.Tcp, s.LastExpectation.Proto);
    }
}
