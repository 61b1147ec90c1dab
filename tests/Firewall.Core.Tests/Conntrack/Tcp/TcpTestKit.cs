using System.Buffers.Binary;
using Firewall.Core.Conntrack;
using Firewall.Core.Conntrack.Tcp;
using Firewall.Core.Packets;

namespace Firewall.Core.Tests.Conntrack.Tcp;

/// <summary>TCP flag bytes for tests.</summary>
internal static class F
{
    public const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10, Urg = 0x20, Ece = 0x40, Cwr = 0x80;
    public const byte SynAck = Syn | Ack, FinAck = Fin | Ack, RstAck = Rst | Ack, PshAck = Psh | Ack;
}

/// <summary>A TCP segment described by its header fields; turned into a <see cref="ParsedPacket"/> on demand.</summary>
internal readonly record struct Seg(byte Flags, uint Seq, uint Ack = 0, ushort Win = 65535, int Payload = 0,
                                    sbyte Ws = -1, bool SackPerm = false, (uint Left, uint Right)[]? Sack = null)
{
    /// <summary>Options present (window scale, SACK-permitted or SACK blocks): header of 40 bytes, else 20.</summary>
    public int HeaderLength => Ws >= 0 || SackPerm || Sack is { Length: > 0 } ? 40 : 20;

    /// <summary>
    /// The parsed view. SACK blocks are written into a small frame buffer at offset 0 (the tracker reads them
    /// through SackBlocksOffset/SackBlockCount, exactly as it would from a real frame).
    /// </summary>
    public ParsedPacket Parse()
    {
        byte[] frame = [];
        int count = 0;
        if (Sack is { Length: > 0 } blocks)
        {
            frame = new byte[blocks.Length * 8];
            for (int i = 0; i < blocks.Length; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(i * 8), blocks[i].Left);
                BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(i * 8 + 4), blocks[i].Right);
            }
            count = blocks.Length;
        }
        int hl = HeaderLength;
        return new ParsedPacket
        {
            Frame = frame,
            IpVersion = 4,
            Protocol = IpProto.Tcp,
            TcpFlagBits = Flags,
            Seq = Seq,
            Ack = Ack,
            Window = Win,
            WindowScale = Ws,
            SackPermitted = SackPerm,
            SackBlocksOffset = 0,
            SackBlockCount = count,
            TcpHeaderLength = hl,
            PayloadLength = Payload,
            L4Length = hl + Payload,
        };
    }
}

/// <summary>
/// A one-entry conntrack table in miniature: looks the entry up, calls the tracker and applies
/// <see cref="TcpResult"/> the way the real table does (state, timer, SEEN_REPLY, ASSURED, delete, reopen).
/// Time is a millisecond counter moved by <see cref="Advance"/>. Entry-creating packets are always ORIGINAL.
/// </summary>
internal sealed class TcpEntrySim(ConntrackSettings? settings = null)
{
    public ConntrackSettings Settings { get; } = settings ?? ConntrackSettings.Default;
    public bool Exists { get; private set; }
    public TcpConnState S;
    public TcpState State { get; private set; }
    public CtStatus Status { get; private set; }
    public long Now { get; private set; }
    public long Deadline { get; private set; }
    public int Destroyed { get; private set; }
    public TcpResult Last { get; private set; }
    public InvalidReason LastReason { get; private set; }

    public long RemainingMs => Exists ? Math.Max(0, Deadline - Now) : 0;
    public long RemainingS => RemainingMs / 1000;
    public bool SeenReply => (Status & CtStatus.SeenReply) != 0;
    public bool Assured => (Status & CtStatus.Assured) != 0;

    public void Advance(long ms)
    {
        Now += ms;
        if (Exists && Now >= Deadline) Exists = false;
    }

    public CtState Orig(Seg seg) => Send(CtDirection.Original, seg);
    public CtState Reply(Seg seg) => Send(CtDirection.Reply, seg);

    public CtState Send(CtDirection dir, Seg seg)
    {
        var p = seg.Parse();
        LastReason = TcpTracker.Validate(ref p, verifyChecksum: false);
        if (LastReason != InvalidReason.None) return CtState.Invalid;
        return Exists ? Existing(dir, seg, ref p) : Create(ref p);
    }

    private CtState Create(ref ParsedPacket p)
    {
        var s = default(TcpConnState);
        LastReason = TcpTracker.New(ref p, Settings, ref s);
        if (LastReason != InvalidReason.None) return CtState.Invalid;
        var r = TcpTracker.Packet(ref s, TcpState.None, CtStatus.None, CtDirection.Original, ref p, Settings, 0);
        Last = r;
        LastReason = r.Reason;
        if (r.Verdict == TcpVerdict.Invalid) return CtState.Invalid;
        S = s;
        Status = CtStatus.None;
        State = r.Verdict == TcpVerdict.Accept ? r.NewState : TcpState.None;
        Exists = !r.DeleteEntry;
        Deadline = Now + (r.RefreshTimer ? r.TimeoutMs : 0);
        return CtState.New;
    }

    private CtState Existing(CtDirection dir, Seg seg, ref ParsedPacket p)
    {
        CtState cls = dir == CtDirection.Reply || SeenReply ? CtState.Established : CtState.New;
        var r = TcpTracker.Packet(ref S, State, Status, dir, ref p, Settings, (uint)RemainingMs);
        Last = r;
        LastReason = r.Reason;
        switch (r.Verdict)
        {
            case TcpVerdict.Reopen:
                Exists = false;
                Destroyed++;
                return Send(dir, seg);
            case TcpVerdict.Invalid:
                if (r.ShortenTimeout) Deadline = Now + r.TimeoutMs;
                return CtState.Invalid;
            case TcpVerdict.Ignore:
                break;
            case TcpVerdict.Accept:
                State = r.NewState;
                if (r.RefreshTimer) Deadline = Now + r.TimeoutMs;
                if (r.SetAssured) Status |= CtStatus.Assured;
                if (r.DeleteEntry)
                {
                    Exists = false;
                    Destroyed++;
                }
                break;
        }
        if (dir == CtDirection.Reply) Status |= CtStatus.SeenReply;
        return cls;
    }
}

/// <summary>A client A (ISN 1000) and a server B (ISN 5 000 000), both offering window scale 7 and SACK.</summary>
internal static class Conn
{
    public const uint IsnA = 1000, IsnB = 5_000_000;
    public const ushort WinA = 502, WinB = 509;   // raw windows after the handshake (×128)

    public static Seg SynA => new(F.Syn, IsnA, 0, 64240, Ws: 7, SackPerm: true);
    public static Seg SynAckB => new(F.SynAck, IsnB, IsnA + 1, 65160, Ws: 7, SackPerm: true);
    public static Seg AckA => new(F.Ack, IsnA + 1, IsnB + 1, WinA);

    /// <summary>A sim after SYN, SYN-ACK and ACK: ESTABLISHED and ASSURED.</summary>
    public static TcpEntrySim Established(ConntrackSettings? settings = null)
    {
        var sim = new TcpEntrySim(settings);
        sim.Orig(SynA);
        sim.Reply(SynAckB);
        sim.Orig(AckA);
        return sim;
    }

    public static ConntrackSettings With(Action<ConntrackOptions> change)
    {
        var o = new ConntrackOptions();
        change(o);
        return new ConntrackSettings(o);
    }
}
