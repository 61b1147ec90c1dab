using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Firewall.Core.Conntrack;
using Firewall.Native.Unix;

namespace Firewall.Daemon.State;

/// <summary>
/// The saved connection table: one file, written atomically (temporary file, fsync, rename, fsync of the directory)
/// and streamed through a fixed buffer (no image of the whole table in memory).
/// <code>
/// header (56 bytes, little-endian)
///   0  8  magic "FWCTSTAT"
///   8  2  file format version (1)      10 2 record format version (ConntrackTable.RecordFormatVersion)
///  12  2  entry record size             14 2 expectation record size
///  16 32  host identity: SHA-256 of "firewall-daemon\n" + /etc/machine-id (else the host name)
///  48  8  saved at, Unix time in ms
/// entry records, then expectation records
/// counts: entries (4), expectations (4)
/// SHA-256 of everything before it (32)
/// </code>
/// Anything that does not check out — length, magic, versions, sizes, host, checksum — is reported and not used.
/// </summary>
public static class StateFile
{
    public const string FileName = "conntrack.state";
    public const ushort FormatVersion = 1;
    private const int HeaderSize = 56, CountsSize = 8, HashSize = 32;
    private static ReadOnlySpan<byte> Magic => "FWCTSTAT"u8;

    /// <summary>This host's identity (what a snapshot must carry to be restored here).</summary>
    public static byte[] HostIdentity()
    {
        string id;
        try { id = File.ReadAllText("/etc/machine-id").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { id = ""; }
        if (id.Length == 0) id = "host:" + Environment.MachineName;
        return SHA256.HashData(Encoding.UTF8.GetBytes("firewall-daemon\n" + id));
    }

    /// <summary>Saves the table's entries and expectations to <paramref name="path"/> so that the file is either the old or the new one, never a mix.</summary>
    public static (int Entries, int Expectations) Save(string path, ConntrackTable table, long nowNs, ReadOnlySpan<byte> host, DateTimeOffset savedAt)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string tmp = path + ".tmp";
        (int, int) counts;
        using (var fs = new FileStream(tmp, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var w = new HashingWriter(fs))
        {
            Span<byte> h = w.GetSpan(HeaderSize)[..HeaderSize];
            Magic.CopyTo(h);
            BinaryPrimitives.WriteUInt16LittleEndian(h[8..], FormatVersion);
            BinaryPrimitives.WriteUInt16LittleEndian(h[10..], ConntrackTable.RecordFormatVersion);
            BinaryPrimitives.WriteUInt16LittleEndian(h[12..], ConntrackTable.EntryRecordSize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[14..], ConntrackTable.ExpectationRecordSize);
            host[..32].CopyTo(h[16..]);
            BinaryPrimitives.WriteInt64LittleEndian(h[48..], savedAt.ToUnixTimeMilliseconds());
            w.Advance(HeaderSize);
            // expectations are few: collected apart, appended after the entries
            var expectations = new ArrayBufferWriter<byte>(1024);
            counts = table.Export(nowNs, w, expectations);
            w.Write(expectations.WrittenSpan);
            Span<byte> c = w.GetSpan(CountsSize)[..CountsSize];
            BinaryPrimitives.WriteInt32LittleEndian(c, counts.Item1);
            BinaryPrimitives.WriteInt32LittleEndian(c[4..], counts.Item2);
            w.Advance(CountsSize);
            w.Finish();
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        UnixFiles.SyncDirectory(dir);
        return counts;
    }

    /// <summary>A snapshot that checked out.</summary>
    public sealed record Parsed(DateTimeOffset SavedAt, int Entries, int Expectations, ReadOnlyMemory<byte> EntryRecords, ReadOnlyMemory<byte> ExpectationRecords);

    /// <summary>Checks <paramref name="image"/>; null with <paramref name="problem"/> when it must not be trusted.</summary>
    public static Parsed? TryParse(byte[] image, ReadOnlySpan<byte> host, out string? problem)
    {
        problem = null;
        if (image.Length < HeaderSize + CountsSize + HashSize) { problem = $"too short ({image.Length} bytes)"; return null; }
        ReadOnlySpan<byte> h = image;
        if (!h[..8].SequenceEqual(Magic)) { problem = "not a firewall-daemon state file (bad magic)"; return null; }
        int body = image.Length - HashSize;
        Span<byte> sum = stackalloc byte[HashSize];
        SHA256.HashData(h[..body], sum);
        if (!sum.SequenceEqual(h[body..])) { problem = "checksum mismatch (corrupt or truncated)"; return null; }
        ushort fv = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]), rv = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
        if (fv != FormatVersion || rv != ConntrackTable.RecordFormatVersion) { problem = $"format version {fv}.{rv}, this build reads {FormatVersion}.{ConntrackTable.RecordFormatVersion}"; return null; }
        if (BinaryPrimitives.ReadUInt16LittleEndian(h[12..]) != ConntrackTable.EntryRecordSize ||
            BinaryPrimitives.ReadUInt16LittleEndian(h[14..]) != ConntrackTable.ExpectationRecordSize) { problem = "record sizes differ from this build's"; return null; }
        if (!h.Slice(16, 32).SequenceEqual(host[..32])) { problem = "written on another host (machine-id differs)"; return null; }
        int n = BinaryPrimitives.ReadInt32LittleEndian(h[(body - CountsSize)..]), x = BinaryPrimitives.ReadInt32LittleEndian(h[(body - 4)..]);
        long expected = HeaderSize + (long)n * ConntrackTable.EntryRecordSize + (long)x * ConntrackTable.ExpectationRecordSize + CountsSize + HashSize;
        if (n < 0 || x < 0 || expected != image.Length) { problem = $"counts ({n} entries, {x} expectations) do not match the length"; return null; }
        var savedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(h[48..]));
        int entryBytes = n * ConntrackTable.EntryRecordSize;
        return new Parsed(savedAt, n, x, image.AsMemory(HeaderSize, entryBytes), image.AsMemory(HeaderSize + entryBytes, x * ConntrackTable.ExpectationRecordSize));
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over a stream that hashes what passes through; one 64 KiB buffer.</summary>
    private sealed class HashingWriter(Stream stream) : IBufferWriter<byte>, IDisposable
    {
        private readonly byte[] _buf = ArrayPool<byte>.Shared.Rent(64 * 1024);
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private int _used;

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            if (_buf.Length - _used < Math.Max(sizeHint, 1)) Drain();
            return _buf.AsSpan(_used);
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (_buf.Length - _used < Math.Max(sizeHint, 1)) Drain();
            return _buf.AsMemory(_used);
        }

        public void Advance(int count) => _used += count;

        public void Write(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                var span = GetSpan(1);
                int n = Math.Min(span.Length, data.Length);
                data[..n].CopyTo(span);
                Advance(n);
                data = data[n..];
            }
        }

        private void Drain()
        {
            _hash.AppendData(_buf, 0, _used);
            stream.Write(_buf, 0, _used);
            _used = 0;
        }

        /// <summary>Writes what is buffered and the SHA-256 of everything.</summary>
        public void Finish()
        {
            Drain();
            Span<byte> sum = stackalloc byte[HashSize];
            _hash.GetHashAndReset(sum);
            stream.Write(sum);
        }

        public void Dispose()
        {
            _hash.Dispose();
            ArrayPool<byte>.Shared.Return(_buf);
        }
    }
}
