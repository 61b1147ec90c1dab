using System.Runtime.InteropServices;

namespace Firewall.Native.Pcap;

/// <summary>Process-wide libpcap facts: one-time pcap_init (UTF-8 strings) and the library version.</summary>
public static unsafe class PcapLibrary
{
    private static readonly int s_initResult = Initialize();

    /// <summary>pcap_lib_version(), e.g. "libpcap version 1.10.3 (with TPACKET_V3)".</summary>
    public static string Version
    {
        get
        {
            EnsureInitialized();
            return Marshal.PtrToStringUTF8((nint)Interop.Pcap.LibVersion()) ?? "";
        }
    }

    internal static void EnsureInitialized() => _ = s_initResult;

    private static int Initialize()
    {
        byte* errbuf = stackalloc byte[Interop.Pcap.PCAP_ERRBUF_SIZE];
        errbuf[0] = 0;
        // 1.10+: makes errbuf strings UTF-8. Failure is harmless (older library: local code page, ASCII here).
        return Interop.Pcap.Init(Interop.Pcap.PCAP_CHAR_ENC_UTF_8, errbuf);
    }

    internal static string ReadErrorBuffer(byte* errorBuffer)
    {
        errorBuffer[Interop.Pcap.PCAP_ERRBUF_SIZE - 1] = 0;
        return Marshal.PtrToStringUTF8((nint)errorBuffer) ?? "";
    }

    internal static string StatusText(int status) => Marshal.PtrToStringUTF8((nint)Interop.Pcap.StatusToString(status)) ?? "";

    internal static string HandleError(nint pcap) => Marshal.PtrToStringUTF8((nint)Interop.Pcap.GetError(pcap)) ?? "";
}
