using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Firewall.Core.Conntrack;

namespace Firewall.Core.Helpers;

/// <summary>
/// Per-connection state of the FTP helper (224 bytes, blittable, no references; zero-initialised = fresh connection).
/// Per direction: the kernel's line-start tracking (up to two "sequence number just after a '\n'" values, and the
/// conntrackd pick-up flag) plus our extension, a small buffer holding the start of a command line whose segment
/// ended before the line did (see <see cref="FtpHelper"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FtpHelperState
{
    internal FtpDirectionState Original;
    internal FtpDirectionState Reply;

    /// <summary>
    /// The kernel's NF_CT_FTP_SEQ_PICKUP (set when conntrackd injects an entry): the next segment in each direction
    /// that is not at a known line start is parsed anyway. For entries restored from elsewhere.
    /// </summary>
    public void PickUp()
    {
        Original.PickUp = true;
        Reply.PickUp = true;
    }

    [UnscopedRef]
    internal ref FtpDirectionState For(CtDirection dir) =>
        ref dir == CtDirection.Original ? ref Original : ref Reply;
}

/// <summary>One direction of <see cref="FtpHelperState"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FtpDirectionState
{
    /// <summary>Bytes of a partly received command line we keep (longer lines are abandoned). The longest line the
    /// parsers can accept in practice, EPRT with a full IPv6 address, is about 64 bytes.</summary>
    public const int PendingCapacity = 96;

    /// <summary>The kernel's NUM_SEQ_TO_REMEMBER.</summary>
    private const int SeqToRemember = 2;

    private uint _nlSeq0, _nlSeq1;
    /// <summary>Sequence number the continuation of <see cref="Pending"/> must start at.</summary>
    public uint PendingNextSeq;
    private byte _nlCount;
    public bool PickUp;
    /// <summary>Bytes held in <see cref="Pending"/>; 0 = nothing pending.</summary>
    public byte PendingLength;
    public PendingLine Pending;

    [InlineArray(PendingCapacity)]
    internal struct PendingLine
    {
        private byte _first;
    }

    /// <summary>The kernel's find_nl_seq: does a segment starting at <paramref name="seq"/> begin a line?</summary>
    public readonly bool IsLineStart(uint seq) =>
        (_nlCount > 0 && _nlSeq0 == seq) || (_nlCount > 1 && _nlSeq1 == seq);

    /// <summary>Consumes the pick-up flag (true once after <see cref="FtpHelperState.PickUp"/>).</summary>
    public bool TakePickUp()
    {
        if (!PickUp) return false;
        PickUp = false;
        return true;
    }

    /// <summary>
    /// The kernel's update_nl_seq: remember <paramref name="nlSeq"/> (the sequence number after a segment that ended
    /// in '\n'); with both slots used, it replaces the older one, and only if it is newer.
    /// </summary>
    public void RememberLineStart(uint nlSeq)
    {
        if (IsLineStart(nlSeq)) return;
        if (_nlCount < SeqToRemember)
        {
            if (_nlCount == 0) _nlSeq0 = nlSeq; else _nlSeq1 = nlSeq;
            _nlCount++;
            return;
        }
        ref uint oldest = ref Before(_nlSeq0, _nlSeq1) ? ref _nlSeq0 : ref _nlSeq1;
        if (Before(oldest, nlSeq)) oldest = nlSeq;
    }

    /// <summary>Starts <see cref="Pending"/> over with <paramref name="head"/> (which fits).</summary>
    public void Hold(ReadOnlySpan<byte> head, uint nextSeq)
    {
        head.CopyTo(Pending);
        PendingLength = (byte)head.Length;
        PendingNextSeq = nextSeq;
    }

    /// <summary>TCP's before(): a is earlier than b in sequence space.</summary>
    private static bool Before(uint a, uint b) => (int)(a - b) < 0;
}
