using System.Buffers.Binary;
using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;
using Firewall.Core.Packets;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>tcp_error() (§4.3) and tcp_new() (§4.4).</summary>
public class TcpValidateAndNewTests
{
    // ---- 4.3 header sanity ----

    [Fact]
    public void DataOffsetBelow20Bytes_IsTruncated()
    {
        var p = new Seg(F.Syn, 1).Parse();
        p.TcpHeaderLength = 16;
        Assert.Equal(InvalidReason.TcpTruncated, TcpTracker.Validate(ref p, false));
    }

    [Fact]
    public void DataOffsetBeyondSegment_IsTruncated()
    {
        var p = new Seg(F.Syn, 1).Parse();
        p.TcpHeaderLength = 24;
        p.L4Length = 22;
        Assert.Equal(InvalidReason.TcpTruncated, TcpTracker.Validate(ref p, false));
    }

    // ---- 4.3 checksum ----

    [Fact]
    public void CorrectChecksum_IsValid()
    {
        var p = RealSyn(corrupt: false, out _);
        Assert.Equal(InvalidReason.None, TcpTracker.Validate(ref p, verifyChecksum: true));
    }

    [Fact]
    public void WrongChecksum_IsBadChecksum()
    {
        var p = RealSyn(corrupt: true, out _);
        Assert.Equal(InvalidReason.TcpBadChecksum, TcpTracker.Validate(ref p, verifyChecksum: true));
    }

    [Fact]
    public void WrongChecksum_IsNotCheckedWhenVerificationIsOff()
    {
        var p = RealSyn(corrupt: true, out _);
        Assert.Equal(InvalidReason.None, TcpTracker.Validate(ref p, verifyChecksum: false));
    }

    // ---- 4.3 flag combinations ----

    [Theory]
    [InlineData(F.Syn)]
    [InlineData(F.Syn | F.Urg)]
    [InlineData(F.SynAck)]
    [InlineData(F.Rst)]
    [InlineData(F.RstAck)]
    [InlineData(F.FinAck)]
    [InlineData(F.FinAck | F.Urg)]
    [InlineData(F.Ack)]
    [InlineData(F.Ack | F.Urg)]
    [InlineData(F.PshAck)]
    [InlineData(F.Syn | F.Ece | F.Cwr)]
    [InlineData(F.FinAck | F.Psh | F.Ece | F.Cwr)]
    public void ValidFlagCombination_PassesValidation(byte flags)
    {
        var p = new Seg(flags, 1).Parse();
        Assert.Equal(InvalidReason.None, TcpTracker.Validate(ref p, false));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(F.Fin)]
    [InlineData(F.Fin | F.Psh | F.Urg)]
    [InlineData(F.Syn | F.Fin)]
    [InlineData(F.Syn | F.Rst)]
    [InlineData(F.SynAck | F.Urg)]
    [InlineData(F.Rst | F.Urg)]
    [InlineData(F.Rst | F.Fin)]
    [InlineData(F.Fin | F.Urg)]
    [InlineData(F.Urg)]
    [InlineData(F.Psh)]
    [InlineData(F.Ece | F.Cwr)]
    [InlineData(0xff)]
    public void InvalidFlagCombination_IsBadFlags(byte flags)
    {
        var p = new Seg(flags, 1).Parse();
        Assert.Equal(InvalidReason.TcpBadFlags, TcpTracker.Validate(ref p, false));
    }

    // ---- 4.4 creating an entry ----

    [Fact]
    public void Syn_InitialisesOriginalWindowDataAndOptions()
    {
        var p = new Seg(F.Syn, 1000, 0, 64240, Payload: 10, Ws: 7, SackPerm: true).Parse();
        var s = default(TcpConnState);
        Assert.Equal(InvalidReason.None, TcpTracker.New(ref p, ConntrackSettings.Default, ref s));
        Assert.Equal(1011u, s.OrigEnd);          // seq + payload + SYN
        Assert.Equal(1011u, s.OrigMaxEnd);
        Assert.Equal(64240u, s.OrigMaxWin);
        Assert.Equal(7, s.Scale(0));
        Assert.Equal(TcpSeenFlags.WindowScale | TcpSeenFlags.SackPerm, s.OrigFlags);
        Assert.Equal(default, s.ReplySeen);
        Assert.Equal(0, s.ReplyFlags);
        Assert.Equal(TcpPacketKind.None, s.LastIndex);
    }

    [Fact]
    public void SynWithZeroWindow_RecordsMaxWinOne()
    {
        var p = new Seg(F.Syn, 1000, 0, 0).Parse();
        var s = default(TcpConnState);
        TcpTracker.New(ref p, ConntrackSettings.Default, ref s);
        Assert.Equal(1u, s.OrigMaxWin);
    }

    [Fact]
    public void SynWindowScaleAbove14_IsCappedAt14()
    {
        var p = new Seg(F.Syn, 1000, 0, 100, Ws: 15).Parse();
        var s = default(TcpConnState);
        TcpTracker.New(ref p, ConntrackSettings.Default, ref s);
        Assert.Equal(14, s.Scale(0));
    }

    [Fact]
    public void New_ClearsLeftoverState()
    {
        var p = new Seg(F.Syn, 1000, 0, 100).Parse();
        var s = new TcpConnState { ReplyEnd = 77, ReplyFlags = 0xff, Retrans = 9, LastFlags = 0xff };
        TcpTracker.New(ref p, ConntrackSettings.Default, ref s);
        Assert.Equal(0u, s.ReplyEnd);
        Assert.Equal(0, s.ReplyFlags);
        Assert.Equal(0, s.Retrans);
        Assert.Equal(0, s.LastFlags);
    }

    [Fact]
    public void LooseAck_PicksUpWithSackPermAndBeLiberalInBothDirections()
    {
        var p = new Seg(F.PshAck, 5000, 9000, 1000, Payload: 100).Parse();
        var s = default(TcpConnState);
        Assert.Equal(InvalidReason.None, TcpTracker.New(ref p, ConntrackSettings.Default, ref s));
        Assert.Equal(5100u, s.OrigEnd);
        Assert.Equal(1000u, s.OrigMaxWin);
        Assert.Equal(6100u, s.OrigMaxEnd);       // end + maxwin
        const byte pickUp = TcpSeenFlags.SackPerm | TcpSeenFlags.BeLiberal;
        Assert.Equal(pickUp, s.OrigFlags);
        Assert.Equal(pickUp, s.ReplyFlags);
    }

    [Fact]
    public void AckWithoutLoose_IsInvalidNew()
    {
        var p = new Seg(F.Ack, 5000, 9000, 1000).Parse();
        var s = default(TcpConnState);
        var settings = Conn.With(o => o.TcpLoose = false);
        Assert.Equal(InvalidReason.TcpInvalidNew, TcpTracker.New(ref p, settings, ref s));
    }

    [Theory]
    [InlineData(F.SynAck)]
    [InlineData(F.FinAck)]
    [InlineData(F.Rst)]
    [InlineData(F.RstAck)]
    public void NonSynNonAck_IsInvalidNew(byte flags)
    {
        var p = new Seg(flags, 5000, 9000, 1000).Parse();
        var s = default(TcpConnState);
        Assert.Equal(InvalidReason.TcpInvalidNew, TcpTracker.New(ref p, ConntrackSettings.Default, ref s));
    }

    /// <summary>An IPv4 SYN 198.18.0.1:40000 → 198.18.0.2:80 with 4 bytes of payload, checksum computed here independently.</summary>
    private static ParsedPacket RealSyn(bool corrupt, out byte[] frame)
    {
        const int ipLen = 20, tcpLen = 20, payload = 4;
        frame = new byte[ipLen + tcpLen + payload];
        var f = frame.AsSpan();
        f[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(f[2..], (ushort)frame.Length);
        f[8] = 64;
        f[9] = IpProto.Tcp;
        uint src = 0xC6120001, dst = 0xC6120002;
        BinaryPrimitives.WriteUInt32BigEndian(f[12..], src);
        BinaryPrimitives.WriteUInt32BigEndian(f[16..], dst);
        var t = f[ipLen..];
        BinaryPrimitives.WriteUInt16BigEndian(t, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(t[2..], 80);
        BinaryPrimitives.WriteUInt32BigEndian(t[4..], 123456);
        t[12] = 5 << 4;
        t[13] = F.Syn;
        BinaryPrimitives.WriteUInt16BigEndian(t[14..], 64240);
        "ping"u8.CopyTo(t[20..]);

        ulong sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + IpProto.Tcp + (uint)(tcpLen + payload);
        for (int i = 0; i < tcpLen + payload; i += 2)
            sum += (uint)(t[i] << 8 | (i + 1 < t.Length ? t[i + 1] : 0));
        while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
        ushort csum = (ushort)~sum;
        if (corrupt) csum ^= 0x0100;
        BinaryPrimitives.WriteUInt16BigEndian(t[16..], csum);

        return new ParsedPacket
        {
            Frame = frame,
            IpVersion = 4,
            L3Offset = 0,
            L3HeaderLength = ipLen,
            L3Length = frame.Length,
            Src = IpAddr.FromV4(src),
            Dst = IpAddr.FromV4(dst),
            Protocol = IpProto.Tcp,
            L4Offset = ipLen,
            L4Length = tcpLen + payload,
            PayloadOffset = ipLen + tcpLen,
            PayloadLength = payload,
            SrcPort = 40000,
            DstPort = 80,
            Seq = 123456,
            TcpFlagBits = F.Syn,
            Window = 64240,
            WindowScale = -1,
            TcpHeaderLength = tcpLen,
        };
    }
}
