using System.Runtime.InteropServices;

internal static unsafe partial class Interop
{
    /// <summary>libpcap 1.10 (x86_64 / arm64 layouts). pcap_t, pcap_dumper_t and bpf_insn stay opaque.</summary>
    internal static partial class Pcap
    {
        internal const int PCAP_ERRBUF_SIZE = 256;
        internal const uint PCAP_NETMASK_UNKNOWN = 0xffffffff;
        internal const uint PCAP_CHAR_ENC_UTF_8 = 1;

        internal const int PCAP_TSTAMP_PRECISION_MICRO = 0;
        internal const int PCAP_TSTAMP_PRECISION_NANO = 1;

        internal const int PCAP_D_INOUT = 0;
        internal const int PCAP_D_IN = 1;
        internal const int PCAP_D_OUT = 2;

        internal const int PCAP_ERROR = -1;
        internal const int PCAP_ERROR_BREAK = -2;

        /// <summary>struct pcap_pkthdr (24 bytes): struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PacketHeader
        {
            internal long Seconds;
            /// <summary>Microseconds, or nanoseconds on a handle with nanosecond precision.</summary>
            internal long SubSeconds;
            internal uint CapturedLength;
            internal uint Length;
        }

        /// <summary>struct bpf_program (16 bytes): u_int bf_len; (4 pad) struct bpf_insn *bf_insns.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct BpfProgram
        {
            internal uint Length;
            private readonly uint _padding;
            internal void* Instructions;
        }

        /// <summary>struct pcap_stat (12 bytes).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Statistics
        {
            internal uint Received;
            internal uint Dropped;
            internal uint InterfaceDropped;
        }

        /// <summary>struct pcap_if (40 bytes): next, name, description, addresses, flags (+4 pad).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Interface
        {
            internal Interface* Next;
            internal byte* Name;
            internal byte* Description;
            internal void* Addresses;
            internal uint Flags;
        }

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_init")]
        internal static partial int Init(uint options, byte* errorBuffer);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_lib_version")]
        internal static partial byte* LibVersion();

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_findalldevs")]
        internal static partial int FindAllDevices(Interface** devices, byte* errorBuffer);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_freealldevs")]
        internal static partial void FreeAllDevices(Interface* devices);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_create", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint Create(string device, byte* errorBuffer);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_set_snaplen")]
        internal static partial int SetSnapLength(nint pcap, int snapLength);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_set_promisc")]
        internal static partial int SetPromiscuous(nint pcap, int on);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_set_immediate_mode")]
        internal static partial int SetImmediateMode(nint pcap, int on);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_set_buffer_size")]
        internal static partial int SetBufferSize(nint pcap, int bytes);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_set_timeout")]
        internal static partial int SetTimeout(nint pcap, int milliseconds);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_set_tstamp_precision")]
        internal static partial int SetTimestampPrecision(nint pcap, int precision);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_get_tstamp_precision")]
        internal static partial int GetTimestampPrecision(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_activate")]
        internal static partial int Activate(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_setdirection")]
        internal static partial int SetDirection(nint pcap, int direction);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_compile", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Compile(nint pcap, BpfProgram* program, string expression, int optimize, uint netmask);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_setfilter")]
        internal static partial int SetFilter(nint pcap, BpfProgram* program);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_freecode")]
        internal static partial void FreeCode(BpfProgram* program);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_setnonblock")]
        internal static partial int SetNonBlocking(nint pcap, int nonBlocking, byte* errorBuffer);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_get_selectable_fd")]
        internal static partial int GetSelectableFd(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_fileno")]
        internal static partial int FileNo(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_datalink")]
        internal static partial int DataLink(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_snapshot")]
        internal static partial int SnapLength(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_dispatch")]
        internal static partial int Dispatch(nint pcap, int count, delegate* unmanaged<byte*, PacketHeader*, byte*, void> callback, byte* user);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_next_ex")]
        internal static partial int NextEx(nint pcap, PacketHeader** header, byte** data);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_inject")]
        internal static partial int Inject(nint pcap, byte* data, nuint length);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_stats")]
        internal static partial int Stats(nint pcap, Statistics* statistics);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_breakloop")]
        internal static partial void BreakLoop(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_close")]
        internal static partial void Close(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_geterr")]
        internal static partial byte* GetError(nint pcap);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_statustostr")]
        internal static partial byte* StatusToString(int status);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_open_offline_with_tstamp_precision", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint OpenOffline(string path, int precision, byte* errorBuffer);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_open_dead_with_tstamp_precision")]
        internal static partial nint OpenDead(int linkType, int snapLength, int precision);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_dump_open", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint DumpOpen(nint pcap, string path);

        /// <summary>void pcap_dump(u_char *dumper, const struct pcap_pkthdr *h, const u_char *sp).</summary>
        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_dump")]
        internal static partial void Dump(nint dumper, PacketHeader* header, byte* data);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_dump_flush")]
        internal static partial int DumpFlush(nint dumper);

        [LibraryImport(Libraries.Pcap, EntryPoint = "pcap_dump_close")]
        internal static partial void DumpClose(nint dumper);
    }
}
