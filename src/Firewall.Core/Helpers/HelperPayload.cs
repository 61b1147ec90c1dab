using System.Runtime.CompilerServices;
using Firewall.Core.Packets;

namespace Firewall.Core.Helpers;

internal static class HelperPayload
{
    /// <summary>The packet's L4 payload, or empty when the view's offsets do not fit its frame (helpers never throw).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Of(in ParsedPacket p)
    {
        int off = p.PayloadOffset, len = p.PayloadLength, frame = p.Frame.Length;
        if (off < 0 || len <= 0 || off > frame || len > frame - off) return default;
        return p.Frame.Slice(off, len);
    }
}
