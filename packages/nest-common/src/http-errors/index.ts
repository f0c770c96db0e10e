export {
  ApiExceptionFilter,
  type ApiExceptionFilterOptions,
  type BodyParserError,
  bodyParserErrorHandler,
  type HttpErrorResponse,
  isBodyParserError,
} from './api-exception.filter';
