import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.xml.crypto.dsig.Reference;
import javax.xml.crypto.dsig.XMLSignature;
import javax.xml.crypto.dsig.XMLSignatureFactory;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import uk.co.smartdcc.boxed.xmldsig.CertificateLibrary;
import uk.co.smartdcc.boxed.xmldsig.Util;

/**
 * The check DCC's Validate makes, applied to the signature over a whole DUIS message.
 *
 * <p>Validate (dccboxed-signing-tool, Validate.validate_document) checks a document only when it holds
 * exactly one ds:Signature; an sr:Response that also carries a SMETS1 Response (signed by the S1SP inside)
 * passes it unchecked. This runs Validate's own steps on the message's enveloped signature, the last child
 * of its root: DCC's parser with its schema (Util.load_duis_file, which drops ignorable whitespace), the
 * signer's certificate from DCC's built-in key store by the X509SerialNumber of that signature
 * (CertificateLibrary), and the JDK's XML-DSig validation. Run with the tool's JAR on the class path:
 * {@code java -cp tool.jar EnvelopeCheck.java FILE...}; prints per file "code TAB reason", code as the
 * tool's: 0 valid, 2 error, 3 no certificate, 10 validation failed.
 */
public final class EnvelopeCheck {
  private EnvelopeCheck() {
  }

  public static void main(final String[] args) {
    for (String file : args) {
      System.out.println(check(file).replace('\n', ' ').replace('\t', ' ').replaceFirst(" ", "\t"));
    }
  }

  static String check(final String file) {
    try {
      Document doc = Util.load_duis_file(file);
      if (doc == null) {
        return "10 failed xsd validation";
      }
      Node last = doc.getDocumentElement().getLastChild();
      while (last != null && last.getNodeType() != Node.ELEMENT_NODE) {
        last = last.getPreviousSibling();
      }
      if (last == null || !XMLSignature.XMLNS.equals(last.getNamespaceURI())
          || !"Signature".equals(last.getLocalName())) {
        return "10 no ds:Signature as the last child of the message";
      }
      Element signatureElement = (Element) last;
      NodeList serials = signatureElement.getElementsByTagNameNS(XMLSignature.XMLNS, "X509SerialNumber");
      if (serials.getLength() != 1) {
        return "10 X509SerialNumber missing from the signature";
      }
      BigInteger serial = new BigInteger(serials.item(0).getTextContent().trim());
      X509Certificate cert = CertificateLibrary.getInstance().lookup(serial);
      if (cert == null) {
        return "3 no certificate with serial " + serial + " in DCC's key store";
      }
      DOMValidateContext context = new DOMValidateContext(cert.getPublicKey(), signatureElement);
      XMLSignature signature = XMLSignatureFactory.getInstance("DOM").unmarshalXMLSignature(context);
      if (signature.validate(context)) {
        return "0 passed signature check: certificate " + serial;
      }
      for (Object reference : signature.getSignedInfo().getReferences()) {
        if (!((Reference) reference).validate(context)) {
          return "10 failed signature check: digest mismatch";
        }
      }
      return "10 failed signature check: signature value";
    } catch (Exception e) {
      return "2 " + e;
    }
  }
}
