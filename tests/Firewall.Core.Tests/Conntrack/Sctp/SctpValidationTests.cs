using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Sctp;
using Firewall.Core.Packets;
using Firewall.Core.Tests.Packets;
using static Firewall.Core.Tests.Conntrack.Sctp.SctpKit;
using static Firewall.Core.Tests.Packets.SctpBuilder;

namespace Firewall.Core.Tests.Conntrack.Sctp;

/// <summary>
/// sctp_error and do_basic_checks: the packet-level INVALID rules. Each rule was also checked on the running 6.18.44
/// kernel (router namespace, FORWARD ctstate): the comment "kernel:" gives what it did.
/// </summary>
public class SctpValidationTests
{
    private static SctpKit Established() => new SctpKit().Reach(SctpState.Established);

    [Fact]
    public void BadCrc32c_IsInvalid()
    {
        // kernel: DATA with checksum 0x1234 on an ESTABLISHED association → INVALID (also INIT with a bad CRC, IPv4 and IPv6)
        var k = Established();
        var r = k.Send(k.Frame(CtDirection.Original, TB, [DataChunk()], crc: 0x1234));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(InvalidReason.SctpBadChecksum, r.Reason);
    }

    [Fact]
    public void BadCrc32c_OnNewPacket_CreatesNoEntry()
    {
        var k = new SctpKit();
        var r = k.Send(k.Frame(CtDirection.Original, 0, [InitChunk(TA)], crc: 0xdead));
        Assert.Equal(InvalidReason.SctpBadChecksum, r.Reason);
        Assert.True(k.Empty);
    }

    [Fact]
    public void BadCrc32c_NotCheckedForLocallyGeneratedPackets()
    {
        var k = new SctpKit();
        var r = k.Send(k.Frame(CtDirection.Original, 0, [InitChunk(TA)], crc: 0xdead), TrackOptions.LocallyGenerated);
        Assert.Equal(CtState.New, r.State);
    }

    [Fact]
    public void BadCrc32c_NotCheckedWhenChecksumSysctlOff()
    {
        var k = new SctpKit(o => o.Checksum = false);
        var r = k.Send(k.Frame(CtDirection.Original, 0, [InitChunk(TA)], crc: 0xdead));
        Assert.Equal(CtState.New, r.State);
    }

    [Fact]
    public void HeaderShorterThan12Bytes_IsInvalid()
    {
        // kernel: an 8-byte SCTP header → INVALID
        var k = new SctpKit();
        var r = k.Send(FrameBuilder.Ipv4(FrameBuilder.A4, FrameBuilder.B4, FrameBuilder.ProtoSctp, [0x03, 0xe8, 0x07, 0xd0, 0, 0, 0, 0]), malformed: true);
        Assert.Equal(CtState.Invalid, r.State);
    }

    [Fact]
    public void NoChunks_IsInvalid()
    {
        // kernel: common header only → INVALID
        var k = new SctpKit();
        var r = k.Orig(0);
        Assert.Equal(CtState.Invalid, r.State);
        Assert.Equal(InvalidReason.SctpMalformed, r.Reason);
    }

    [Fact]
    public void ZeroLengthChunk_IsInvalid()
    {
        // kernel: DATA followed by a chunk with length 0 on ESTABLISHED → INVALID
        var k = Established();
        var r = k.Orig(TB, DataChunk(), [0, 0, 0, 0]);
        Assert.Equal(InvalidReason.SctpMalformed, r.Reason);
    }

    [Fact]
    public void TrailingBytesShorterThanChunkHeader_AreIgnored()
    {
        // kernel: DATA + 2 stray bytes → ESTABLISHED
        var k = Established();
        Assert.Equal(CtState.Established, k.Orig(TB, DataChunk(), [0, 0]).State);
    }

    [Theory]
    [InlineData(Init)]
    [InlineData(InitAck)]
    [InlineData(ShutdownComplete)]
    public void ChunkThatMustBeAlone_WithAnotherAfterIt_IsInvalid(byte type)
    {
        // kernel: INIT + DATA bundled → INVALID
        var k = Established();
        var r = k.Orig(type == Init ? 0 : TB, AnyChunk(type, TB), DataChunk());
        Assert.Equal(InvalidReason.SctpMalformed, r.Reason);
    }

    [Theory]
    [InlineData(Init)]
    [InlineData(InitAck)]
    [InlineData(ShutdownComplete)]
    [InlineData(CookieEcho)]
    [InlineData(CookieAck)]
    public void ChunkThatMustBeFirst_AfterAnother_IsInvalid(byte type)
    {
        // kernel: DATA then COOKIE ECHO → INVALID
        var k = Established();
        var r = k.Orig(TB, DataChunk(), AnyChunk(type, TB));
        Assert.Equal(InvalidReason.SctpMalformed, r.Reason);
    }

    [Fact]
    public void CookieEchoBundledWithData_IsAccepted()
    {
        // kernel: COOKIE ECHO + DATA on ESTABLISHED → ESTABLISHED
        var k = Established();
        Assert.Equal(CtState.Established, k.Orig(TB, AnyChunk(CookieEcho), DataChunk()).State);
    }

    [Fact]
    public void UnknownChunkType_OnExistingEntry_IsAcceptedWithoutStateChange()
    {
        // kernel: chunk type 0x40 on ESTABLISHED → ESTABLISHED, state unchanged
        var k = Established();
        Assert.Equal(CtState.Established, k.Orig(TB, Chunk(0x40)).State);
        Assert.Equal(SctpState.Established, k.State);
    }

    [Fact]
    public void InitWithoutInitHeader_IsInvalid()
    {
        // kernel: INIT chunk header only (length 4, nothing after) → INVALID, no entry
        var k = new SctpKit();
        var r = k.Orig(0, Chunk(Init));
        Assert.Equal(CtState.Invalid, r.State);
        Assert.True(k.Empty);
    }

    [Fact]
    public void InitAckWithoutInitHeader_OnExistingEntry_IsInvalid()
    {
        var k = new SctpKit().Reach(SctpState.Closed);
        var r = k.Reply(TA, Chunk(InitAck));
        Assert.Equal(InvalidReason.SctpMalformed, r.Reason);
        Assert.Equal(SctpState.Closed, k.State);
    }

    [Fact]
    public void ChunkWalk_CountsInvalidPerReason()
    {
        var k = Established();
        k.Orig(TB, DataChunk(), [0, 0, 0, 0]);
        k.Orig(0x999, DataChunk());
        Assert.Equal(1, k.W.InvalidByReason[(int)InvalidReason.SctpMalformed]);
        Assert.Equal(1, k.W.InvalidByReason[(int)InvalidReason.SctpBadVtag]);
    }
}
