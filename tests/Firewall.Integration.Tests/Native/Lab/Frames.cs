using System.Buffers.Binary;
using System.Diagnostics;
using Firewall.Native.Pcap;

namespace Firewall.Integration.Tests.Native.Lab;

/// <summary>Test Ethernet frames: broadcast, local-experimental EtherTypes, a sequence number after the header.</summary>
internal static class Frames
{
    public const ushort MarkerType = 0x88B5;
    public const ushort OtherType = 0x88B6;

    public static byte[] Build(ushort etherType, int sequence, int length = 60)
    {
        var frame = new byte[length];
        frame.AsSpan(0, 6).Fill(0xff);
        frame[6] = 0x02;
        frame[11] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(14), sequence);
        for (int i = 18; i < length; i++) frame[i] = (byte)i;
        return frame;
    }

    public static ushort TypeOf(ReadOnlySpan<byte> frame) => frame.Length < 14 ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);

    public static int SequenceOf(ReadOnlySpan<byte> frame) => BinaryPrimitives.ReadInt32BigEndian(frame[14..]);

    /// <summary>Reads with pcap_next_ex until <paramref name="expected"/> frames of <paramref name="etherType"/> arrived or the deadline passed.</summary>
    public static List<byte[]> Collect(PcapHandle handle, ushort etherType, int expected, int milliseconds = 2000)
    {
        var frames = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        while (frames.Count < expected && clock.ElapsedMilliseconds < milliseconds)
            if (handle.ReadNext(out PcapFrame frame) == PcapReadResult.Frame && TypeOf(frame.Data) == etherType)
                frames.Add(frame.Data.ToArray());
        return frames;
    }
}
