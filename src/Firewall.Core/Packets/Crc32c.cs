using System.Buffers.Binary;
using System.Numerics;

namespace Firewall.Core.Packets;

/// <summary>CRC32c (Castagnoli), the SCTP checksum (RFC 9260 appendix A), hardware-accelerated where the CPU has it.</summary>
public static class Crc32c
{
    /// <summary>Feeds <paramref name="data"/> into a running (reflected, not inverted) CRC32c register.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i)));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return crc;
    }

    /// <summary>CRC32c of <paramref name="data"/> (initial value and final XOR all ones).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>
    /// The checksum of an SCTP packet (common header and chunks), computed with the checksum field (bytes 8–11) taken
    /// as zero. The field holds this value in little-endian byte order, as the kernel's sctp_compute_cksum stores it.
    /// </summary>
    public static uint ComputeSctp(ReadOnlySpan<byte> sctp)
    {
        if (sctp.Length < 12) return 0;
        uint crc = Update(~0u, sctp.Slice(0, 8));
        crc = BitOperations.Crc32C(crc, 0u);
        return ~Update(crc, sctp.Slice(12));
    }

    /// <summary>True when the SCTP packet's checksum field matches its contents.</summary>
    public static bool VerifySctp(ReadOnlySpan<byte> sctp) =>
        sctp.Length >= 12 && ComputeSctp(sctp) == BinaryPrimitives.ReadUInt32LittleEndian(sctp.Slice(8));
}
