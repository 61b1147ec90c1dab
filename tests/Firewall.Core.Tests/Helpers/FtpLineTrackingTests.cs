using System.Runtime.CompilerServices;
using Firewall.Core.Conntrack;
using Firewall.Core.Helpers;

namespace Firewall.Core.Tests.Helpers;

/// <summary>The kernel's line-start tracking: only segments starting right after a remembered '\n' are parsed.</summary>
public class FtpLineTrackingTests
{
    private const string Port = "PORT 198,18,0,1,200,10\r\n";
    private const string Pasv = "227 Entering Passive Mode (198,18,0,2,156,64).\r\n";

    [Fact]
    public void FirstClientSegment_OnlySeeds()
    {
        var s = new FtpSession();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, Port));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, Port));
    }

    [Fact]
    public void FirstServerSegment_OnlySeeds()
    {
        var s = new FtpSession();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, Pasv));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, Pasv));
    }

    [Fact]
    public void Directions_AreSeededIndependently()
    {
        var s = new FtpSession();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "USER anonymous\r\n"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Reply, Pasv)); // first server segment: seeds only
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, Port));
    }

    [Fact]
    public void NotEstablished_DoesNotSeed()
    {
        var s = new FtpSession();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "USER anonymous\r\n", established: false));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, Port)); // this one seeds
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, Port));
    }

    [Fact]
    public void CommandNotAtSegmentStart_IsIgnored()
    {
        var s = new FtpSession().Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "NOOP\r\n" + Port));
    }

    [Fact]
    public void SegmentNotAtLineStart_IsIgnored()
    {
        var s = new FtpSession().Seeded();
        uint gap = s.NextSeq(CtDirection.Original) + 5;
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, gap, Port));
    }

    [Fact]
    public void SegmentNotEndingInNewline_DoesNotMarkALineStart()
    {
        var s = new FtpSession().Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "NOOP"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "\r\n" + Port)); // not at a line start
    }

    [Fact]
    public void SegmentEndingInNewline_MarksALineStartEvenWhenNotParsed()
    {
        var s = new FtpSession().Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "NOOP"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "\r\n"));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, Port));
    }

    [Fact]
    public void DroppedSegment_DoesNotMarkALineStart()
    {
        var s = new FtpSession().Seeded();
        uint lineStart = s.NextSeq(CtDirection.Original);
        Assert.Equal(HelperAction.Drop, s.Send(CtDirection.Original, "PORT 1,2\r\n"));
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, Port)); // after the dropped line: not a line start
        Assert.Equal(HelperAction.Expect, s.SendAt(CtDirection.Original, lineStart, Port)); // the retransmission slot still is
    }

    [Fact]
    public void TwoLineStartsAreRemembered_AndTheOlderIsReplaced()
    {
        var s = new FtpSession().Seeded();
        uint first = s.NextSeq(CtDirection.Original);
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "NOOP\r\n"));   // remembers first, then the one after NOOP
        uint second = s.NextSeq(CtDirection.Original);
        Assert.Equal(HelperAction.Expect, s.SendAt(CtDirection.Original, first, Port)); // a retransmission of the older slot parses;
        // its end is newer than `first`, so it takes the older slot: `second` is still remembered, `first` is not.
        Assert.Equal(HelperAction.Expect, s.SendAt(CtDirection.Original, second, Port));
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, first, Port));
    }

    [Fact]
    public void OlderLineStart_DoesNotReplaceNewerOnes()
    {
        var s = new FtpSession().Seeded();
        Assert.Equal(HelperAction.None, s.Send(CtDirection.Original, "NOOP\r\n")); // both slots used
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, 100, "X\r\n")); // ends before both slots
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, 103, Port));
    }

    [Fact]
    public void LineStartsAcrossSequenceWrap()
    {
        var s = new FtpSession();
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, 0xFFFF_FFF8, "USER anonymous\r\n")); // wraps past 0
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, Port));
    }

    [Fact]
    public void PickUp_ParsesTheNextSegmentOfEachDirectionOnce()
    {
        var s = new FtpSession();
        s.State.PickUp();
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Original, Port));
        Assert.Equal(HelperAction.Expect, s.Send(CtDirection.Reply, Pasv));
        Assert.Equal(HelperAction.None, s.SendAt(CtDirection.Original, 7, Port)); // flag consumed
    }

    [Fact]
    public void State_IsSmallAndHoldsNoReferences()
    {
        Assert.True(Unsafe.SizeOf<FtpHelperState>() <= 256, $"{Unsafe.SizeOf<FtpHelperState>()} bytes");
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<FtpHelperState>());
    }
}
